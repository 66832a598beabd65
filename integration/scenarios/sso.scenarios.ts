import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataOf, graphql } from "../harness/graphql-client.ts";
import { OIDC_DEAD_PEER_NAME, OIDC_PEER_NAME, type OidcPeer, startOidcPeer } from "../harness/oidc-peer.ts";
import type { Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const ME = "{ me { id username email firstName lastName } }";
const SIGN_IN = "mutation ($input: SignInInput!) { signIn(input: $input) { accessToken } }";
const LINK = `mutation ($input: LinkOidcIdentityInput!) {
  linkOidcIdentity(input: $input) { accessToken refreshToken user { id email } } }`;
const PROVIDERS = "{ ssoProviders { name startPath } }";

/** What the browser sees after a redirect back to Beep. */
interface Landing {
  location: URL;
  fragment: URLSearchParams;
}

function newPerson() {
  const tag = randomBytes(4).toString("hex");
  return {
    sub: `sub-${tag}`,
    email: `grace.${tag}@idp.example`,
    preferredUsername: `grace.hopper.${tag}`,
    givenName: "Grace",
    familyName: "Hopper",
  };
}

interface AuditLine {
  action: string;
  user: string | null;
  outcome: string;
  details: { provider?: string; reason?: string };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** OIDC single sign-on (AUTH-5) against a real OpenID provider, through the gateway's browser edges. */
export function defineSsoScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;
  let peer: OidcPeer;

  beforeAll(async () => {
    peer = await startOidcPeer(url());
  });
  afterAll(async () => {
    await peer?.stop();
  });

  /** GET /auth/oidc/<provider>/start: the provider URL and the state cookie. */
  async function start(redirect = "/app/home") {
    const response = await fetch(
      `${url()}/auth/oidc/${OIDC_PEER_NAME}/start?redirect=${encodeURIComponent(redirect)}`,
      { redirect: "manual" },
    );
    return {
      status: response.status,
      location: response.headers.get("location") ?? "",
      setCookie: response.headers.get("set-cookie") ?? "",
      cookie: /beep_oidc_state=([^;]*)/.exec(response.headers.get("set-cookie") ?? "")?.[1] ?? "",
    };
  }

  /** GET the callback as the browser would, with (or without) its state cookie. */
  async function land(callbackUrl: URL, cookie: string): Promise<Landing> {
    const response = await fetch(callbackUrl, {
      redirect: "manual",
      headers: cookie ? { cookie: `beep_oidc_state=${cookie}` } : {},
    });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("location") ?? "");
    return { location, fragment: new URLSearchParams(location.hash.slice(1)) };
  }

  /** A whole sign-in as `sub`, from start to the landing page. */
  async function signInAs(sub: string, redirect = "/app/home"): Promise<Landing> {
    const begun = await start(redirect);
    expect(begun.status).toBe(302);
    return land(await peer.authorize(begun.location, sub), begun.cookie);
  }

  /** Audit lines of `action` written so far by any process of the deployment. */
  async function audits(action: string): Promise<AuditLine[]> {
    await pause(150);
    return [...topology().processes.values()].flatMap((process) =>
      process.lines
        .filter((line) => line.includes(`"action":"${action}"`))
        .map((line) => JSON.parse(line) as AuditLine),
    );
  }
  const reasons = async () => (await audits("OIDC_SIGN_IN_FAILED")).map((line) => line.details.reason);
  /** No log line of any process holds `secret`. */
  const neverLogged = (secret: string) => {
    for (const process of topology().processes.values()) {
      for (const line of process.lines) expect(line).not.toContain(secret);
    }
  };

  const me = async (token: string) =>
    dataOf(
      await graphql<{ me: { id: string; username: string; email: string; firstName: string } }>(
        url(),
        ME,
        {},
        token,
      ),
    ).me;

  describe("single sign-on with OpenID Connect", () => {
    it("lists the configured providers", async () => {
      const { ssoProviders } = dataOf(await graphql<{ ssoProviders: unknown[] }>(url(), PROVIDERS));
      expect(ssoProviders).toEqual([
        { name: OIDC_PEER_NAME, startPath: `/auth/oidc/${OIDC_PEER_NAME}/start` },
        { name: OIDC_DEAD_PEER_NAME, startPath: `/auth/oidc/${OIDC_DEAD_PEER_NAME}/start` },
      ]);
    });

    it("says so clearly when a provider is unreachable, and knows no unconfigured provider", async () => {
      const response = await fetch(`${url()}/auth/oidc/${OIDC_DEAD_PEER_NAME}/start?redirect=/app`, {
        redirect: "manual",
      });
      expect(response.status).toBe(302);
      expect(new URL(response.headers.get("location") ?? "").hash).toBe("#error=unavailable");
      await pause(150);
      const logged = [...topology().processes.values()].flatMap((process) =>
        process.lines.filter((line) => line.includes("OpenID Connect discovery failed")),
      );
      expect(logged.some((line) => line.includes(`"provider":"${OIDC_DEAD_PEER_NAME}"`))).toBe(true);

      const unknown = await fetch(`${url()}/auth/oidc/nope/start`, { redirect: "manual" });
      expect(new URL(unknown.headers.get("location") ?? "").hash).toBe("#error=not_found");
    });

    it("first sign-in creates and links an account with working tokens; the next lands on the same account", async () => {
      const person = newPerson();
      peer.addPerson(person);

      const begun = await start("/app/home?tab=1");
      expect(begun.status).toBe(302);
      expect(begun.location.startsWith(`${peer.issuer}/`)).toBe(true);
      const authorization = new URL(begun.location);
      expect(authorization.searchParams.get("code_challenge_method")).toBe("S256");
      expect(authorization.searchParams.get("state")).toBeTruthy();
      expect(authorization.searchParams.get("nonce")).toBeTruthy();
      expect(begun.setCookie).toMatch(/HttpOnly/i);
      expect(begun.setCookie).toMatch(/SameSite=Lax/i);
      expect(begun.setCookie).not.toMatch(/Secure/i); // public URL is http here

      const first = await land(await peer.authorize(begun.location, person.sub), begun.cookie);
      expect(first.location.origin).toBe(url());
      expect(`${first.location.pathname}${first.location.search}`).toBe("/app/home?tab=1");
      const accessToken = first.fragment.get("accessToken") ?? "";
      expect(first.fragment.get("refreshToken")).toBeTruthy();
      const created = await me(accessToken);
      expect(created).toMatchObject({
        email: person.email,
        username: person.preferredUsername,
        firstName: "Grace",
      });

      expect((await audits("OIDC_ACCOUNT_CREATED")).some((line) => line.user === created.id)).toBe(true);
      neverLogged(accessToken);
      neverLogged(first.fragment.get("refreshToken") ?? "");

      const second = await signInAs(person.sub);
      expect((await me(second.fragment.get("accessToken") ?? "")).id).toBe(created.id);
      const signIns = (await audits("OIDC_SIGN_IN")).filter((line) => line.user === created.id);
      expect(signIns).toHaveLength(2);
      expect(signIns[0]?.details.provider).toBe(OIDC_PEER_NAME);

      // The account has no usable password: SSO is its only way in.
      const passwordSignIn = await graphql(url(), SIGN_IN, {
        input: { email: person.email, password: "!sso-only" },
      });
      expect(passwordSignIn.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    });

    it("refuses a callback whose state does not match the browser's flow", async () => {
      const person = newPerson();
      peer.addPerson(person);
      const mine = await start();
      const other = await start();
      const callback = await peer.authorize(mine.location, person.sub);

      const mismatched = await land(callback, other.cookie);
      expect(mismatched.fragment.get("error")).toBe("unauthenticated");
      expect(mismatched.fragment.get("accessToken")).toBeNull();
      const cookieless = await land(callback, "");
      expect(cookieless.fragment.get("error")).toBe("unauthenticated");
      expect(await reasons()).toEqual(expect.arrayContaining(["state_mismatch", "unknown_or_expired_flow"]));

      // The right browser still completes its own flow.
      const matched = await land(callback, mine.cookie);
      expect(matched.fragment.get("accessToken")).toBeTruthy();
      // …once: the flow is single-use.
      expect((await land(callback, mine.cookie)).fragment.get("error")).toBe("unauthenticated");
    });

    it("refuses an ID token whose nonce is not the one of the flow", async () => {
      const person = newPerson();
      peer.addPerson(person);
      const begun = await start();
      const tampered = new URL(begun.location);
      tampered.searchParams.set("nonce", "attacker-chosen-nonce");
      const landing = await land(await peer.authorize(tampered.href, person.sub), begun.cookie);
      expect(landing.fragment.get("error")).toBe("unauthenticated");
      expect(landing.fragment.get("accessToken")).toBeNull();
      expect(landing.fragment.get("linkToken")).toBeNull();
      expect(await reasons()).toContain("nonce_mismatch");
    });

    it("asks for the password before linking to an existing account with the same email", async () => {
      const existing = await signedInUser(url());
      const person = { ...newPerson(), email: existing.identity.email.toLowerCase() };
      peer.addPerson(person);

      const landing = await signInAs(person.sub);
      expect(landing.fragment.get("accessToken")).toBeNull();
      const linkToken = landing.fragment.get("linkToken") ?? "";
      expect(linkToken.length).toBeGreaterThan(20);

      const wrong = await graphql(url(), LINK, { input: { linkToken, password: "not the password at all" } });
      expect(wrong.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      expect(await reasons()).toContain("wrong_password");

      const right = dataOf(
        await graphql<{ linkOidcIdentity: { accessToken: string; user: { id: string } } }>(url(), LINK, {
          input: { linkToken, password: existing.identity.password },
        }),
      ).linkOidcIdentity;
      expect(right.user.id).toBe(existing.user.id);
      expect((await me(right.accessToken)).id).toBe(existing.user.id);
      expect((await audits("OIDC_LINKED")).some((line) => line.user === existing.user.id)).toBe(true);
      neverLogged(linkToken);

      // Linked: the next SSO sign-in goes straight in, and the link token is spent.
      const next = await signInAs(person.sub);
      expect((await me(next.fragment.get("accessToken") ?? "")).id).toBe(existing.user.id);
      const replay = await graphql(url(), LINK, {
        input: { linkToken, password: existing.identity.password },
      });
      expect(replay.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    });

    it("never redirects to another origin", async () => {
      for (const redirect of [
        "https://evil.example/steal",
        "//evil.example/steal",
        "/\\evil.example",
        "javascript:alert(1)",
      ]) {
        const begun = await start(redirect);
        expect(begun.status).toBe(302);
        const location = new URL(begun.location);
        expect(location.origin).toBe(url());
        expect(new URLSearchParams(location.hash.slice(1)).get("error")).toBe("bad_user_input");
        expect(begun.cookie).toBe("");
      }
    });
  });
}
