import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { dataOf, type GraphqlResponse, graphql, wsClient } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const ME = `{ me { id } }`;
const SIGN_IN = `mutation ($input: SignInInput!) { signIn(input: $input) { accessToken } }`;
const SIGN_IN_CODE = `mutation ($input: SignInWithCodeInput!) { signInWithCode(input: $input) { accessToken } }`;
const SIGN_IN_LDAP = `mutation ($input: SignInWithLdapInput!) { signInWithLdap(input: $input) { accessToken } }`;
/** `auth.guessLimitTargetAttempts` default. */
const TARGET_LIMIT = 10;

const kidOf = (token: string): string =>
  (JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString("utf8")) as { kid: string }).kid;
const codeOf = (response: GraphqlResponse) => response.errors?.[0]?.extensions?.code ?? "OK";
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Identity hardening: key rotation (AUTH-2), guess limits (AUTH-11), trusted proxies. */
export function defineHardeningScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;

  describe("text that cannot be stored", () => {
    const PROFILE = `{ me { bio } }`;
    const UPDATE_BIO = `mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { user { bio } } }`;
    const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id } } }`;
    const MY_SERVERS = `{ myServers { id } }`;

    it("is BAD_USER_INPUT naming where it is, in variables and literals, over HTTP and WebSocket; nothing changes", async () => {
      const user = await signedInUser(url());
      const as = (query: string, variables: Record<string, unknown> = {}) =>
        graphql(url(), query, variables, user.accessToken);
      dataOf(await as(UPDATE_BIO, { input: { bio: "kept" } }));
      const serversBefore = dataOf(await as(MY_SERVERS));

      const bioNul = await as(UPDATE_BIO, { input: { bio: "a\u0000b" } });
      expect(bioNul.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.bio" });
      expect(bioNul.data ?? null).toBeNull();
      const nameSurrogate = await as(CREATE_SERVER, { input: { name: "x\ud800" } });
      expect(nameSurrogate.errors?.[0]?.extensions).toMatchObject({
        code: "BAD_USER_INPUT",
        field: "input.name",
      });
      const literal = await as(`mutation { updateProfile(input: { bio: "a\\u0000b" }) { user { bio } } }`);
      expect(codeOf(literal)).toBe("BAD_USER_INPUT");
      // Astral characters are surrogate pairs, not unpaired ones.
      expect(dataOf(await as(UPDATE_BIO, { input: { bio: "👋 kept" } }))).toEqual({
        updateProfile: { user: { bio: "👋 kept" } },
      });

      const socket = wsClient(url(), user.accessToken);
      try {
        const errors = await new Promise<unknown>((resolve, reject) => {
          socket.client.subscribe(
            { query: UPDATE_BIO, variables: { input: { bio: "\udc00" } } },
            {
              next: (value) => resolve(value),
              error: (error) => resolve(error),
              complete: () => reject(new Error("no answer")),
            },
          );
        });
        expect(JSON.stringify(errors)).toContain('"code":"BAD_USER_INPUT"');
      } finally {
        await socket.client.dispose();
      }
      expect(dataOf(await as(PROFILE))).toEqual({ me: { bio: "👋 kept" } });
      expect(dataOf(await as(MY_SERVERS))).toEqual(serversBefore);
    });
  });

  describe("names that show nothing", () => {
    it("are BAD_USER_INPUT for servers, channels and people (zero-width, bidi and filler characters only); nothing changes", async () => {
      const user = await signedInUser(url());
      const as = <T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}) =>
        graphql<T>(url(), query, variables, user.accessToken);
      const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id channels { name } } } }`;
      const CREATE_CHANNEL = `mutation ($input: CreateChannelInput!) { createChannel(input: $input) { channel { id } } }`;
      const UPDATE_PROFILE = `mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { user { displayName } } }`;
      const blank = ["\u3164\u3164", "\u200b\u202e\u2060", "\u2800\u2800 "];
      const server = dataOf(
        await as<{ createServer: { server: { id: string; channels: Array<{ name: string }> } } }>(
          CREATE_SERVER,
          { input: { name: "Visible" } },
        ),
      ).createServer.server;
      dataOf(await as(UPDATE_PROFILE, { input: { displayName: "Shown" } }));
      for (const name of blank) {
        const refusedServer = await as(CREATE_SERVER, { input: { name } });
        expect(refusedServer.errors?.[0]?.extensions).toMatchObject({
          code: "BAD_USER_INPUT",
          field: "name",
        });
        const refusedChannel = await as(CREATE_CHANNEL, { input: { serverId: server.id, name } });
        expect(refusedChannel.errors?.[0]?.extensions).toMatchObject({
          code: "BAD_USER_INPUT",
          field: "name",
        });
        const refusedProfile = await as(UPDATE_PROFILE, { input: { displayName: name } });
        expect(refusedProfile.errors?.[0]?.extensions).toMatchObject({
          code: "BAD_USER_INPUT",
          field: "displayName",
        });
      }
      const after = dataOf(
        await as<{
          me: { displayName: string };
          myServers: Array<{ id: string; channels: Array<{ name: string }> }>;
        }>(`{ me { displayName } myServers { id channels { name } } }`),
      );
      expect(after.me.displayName).toBe("Shown");
      expect(after.myServers.map((s) => s.id)).toEqual([server.id]);
      expect(after.myServers[0]!.channels).toEqual(server.channels);
      // A name that shows something, around invisible characters, is kept as given.
      expect(codeOf(await as(CREATE_CHANNEL, { input: { serverId: server.id, name: "\u200bnews" } }))).toBe(
        "OK",
      );
    });
  });

  describe("identity hardening", () => {
    it("limits one-time code sign-in per destination: limit attempts answer, the next is RATE_LIMITED", async () => {
      const email = `nobody.${randomBytes(4).toString("hex")}@example.org`;
      const attempt = () => graphql(url(), SIGN_IN_CODE, { input: { email, code: "000000" } });
      for (let i = 1; i <= TARGET_LIMIT; i++) expect(codeOf(await attempt())).toBe("UNAUTHENTICATED");
      const over = await attempt();
      expect(codeOf(over)).toBe("RATE_LIMITED");
      expect(over.errors?.[0]?.extensions?.retryAfterMs).toBeGreaterThan(0);
      // Another destination from the same client is still answered.
      const other = `other.${randomBytes(4).toString("hex")}@example.org`;
      expect(codeOf(await graphql(url(), SIGN_IN_CODE, { input: { email: other, code: "000000" } }))).toBe(
        "UNAUTHENTICATED",
      );
    });

    it("limits LDAP sign-in per username before the directory is asked", async () => {
      const username = `nobody_${randomBytes(4).toString("hex")}`;
      const attempt = () => graphql(url(), SIGN_IN_LDAP, { input: { username, password: "wrong-pass" } });
      for (let i = 1; i <= TARGET_LIMIT; i++) expect(codeOf(await attempt())).toBe("UNAUTHENTICATED");
      const over = await graphql(url(), SIGN_IN_LDAP, {
        input: { username: ` ${username.toUpperCase()} `, password: "x" },
      });
      expect(codeOf(over)).toBe("RATE_LIMITED");
      expect(over.errors?.[0]?.extensions?.retryAfterMs).toBeGreaterThan(0);
    });

    it("attributes a request to the X-Forwarded-For client when it comes through a trusted proxy", async () => {
      const response = await fetch(`${url()}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": "203.0.113.1, 198.51.100.23" },
        body: JSON.stringify({
          query: SIGN_IN,
          variables: { input: { email: "ghost@example.org", password: "not-it" } },
        }),
      });
      expect(response.status).toBe(200);
      const log = (topology().processes.get("users") ?? topology().processes.get("beep"))?.lines ?? [];
      await expect
        .poll(() => log.some((line) => line.includes('"SIGN_IN_FAILED"') && line.includes('"198.51.100.23"')))
        .toBe(true);
      expect(log.some((line) => line.includes('"203.0.113.1"'))).toBe(false);
    });

    it("rotates the signing key on `beep keys rotate`: old tokens still work, new ones carry the new kid", async () => {
      const t = topology();
      const before = await signedInUser(url());
      const oldKid = kidOf(before.accessToken);
      expect(dataOf(await graphql(url(), ME, {}, before.accessToken))).toBeTruthy();
      if (t.kind === "split") {
        // Live: users reloads its keys within a second; the gateway meets the new kid and refetches.
        const rotated = await t.processes.get("users")?.run(["keys", "rotate"]);
        expect(rotated?.code, rotated?.output).toBe(0);
      } else {
        // Embedded PostgreSQL belongs to the running process: rotate between a stop and a start.
        const beep = t.processes.get("beep");
        await beep?.stop();
        const rotated = await beep?.run(["keys", "rotate"]);
        expect(rotated?.code, rotated?.output).toBe(0);
        await beep?.start(120_000);
      }
      let after = await signedInUser(url());
      for (let i = 0; i < 50 && kidOf(after.accessToken) === oldKid; i++) {
        await pause(200);
        after = await signedInUser(url());
      }
      expect(kidOf(after.accessToken)).not.toBe(oldKid);
      // The new token verifies at the gateway (unknown kid → JWKS refetch), and so does the old one.
      expect(dataOf(await graphql<{ me: { id: string } }>(url(), ME, {}, after.accessToken)).me.id).toBe(
        after.user.id,
      );
      expect(dataOf(await graphql<{ me: { id: string } }>(url(), ME, {}, before.accessToken)).me.id).toBe(
        before.user.id,
      );
    }, 180_000);
  });
}
