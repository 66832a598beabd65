import { describe, expect, it } from "vitest";
import { collect, dataOf, graphql, wsClient } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";
import { newIdentity, signedInUser } from "./identity.scenarios.ts";

const SIGN_UP = `mutation ($input: SignUpInput!) { signUp(input: $input) { user { id } } }`;
const SIGN_IN = `mutation ($input: SignInInput!) { signIn(input: $input) { accessToken refreshToken user { id } } }`;
const REFRESH = `mutation ($input: RefreshSessionInput!) { refreshSession(input: $input) { accessToken } }`;
const SESSIONS = `{ sessions { id device ip createdAt lastUsedAt current } }`;
const REVOKE = `mutation ($input: RevokeSessionInput!) { revokeSession(input: $input) { sessionId } }`;
const SIGN_OUT = `mutation { signOut { sessionId } }`;
const SIGN_OUT_EVERYWHERE = `mutation ($input: SignOutEverywhereInput!) { signOutEverywhere(input: $input) { revokedCount } }`;
const ME = `{ me { id } }`;
const UPDATE_PROFILE = `mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { user { id } } }`;
const MY_EVENTS = `subscription { myEvents { __typename ... on UserUpdated { user { bio } } } }`;

type Session = {
  id: string;
  device: string;
  ip: string;
  createdAt: string;
  lastUsedAt: string;
  current: boolean;
};

async function signIn(url: string, identity: { email: string; password: string }) {
  return dataOf(
    await graphql<{ signIn: { accessToken: string; refreshToken: string; user: { id: string } } }>(
      url,
      SIGN_IN,
      {
        input: { email: identity.email, password: identity.password },
      },
    ),
  ).signIn;
}

async function sessionsOf(url: string, token: string): Promise<Session[]> {
  return dataOf(await graphql<{ sessions: Session[] }>(url, SESSIONS, {}, token)).sessions;
}

/** The session id inside an access token (`sid`), read without verifying (the test issued it). */
function sidOf(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as {
    sid: string;
  };
  return payload.sid;
}

const codeOf = (response: { errors?: Array<{ extensions?: Record<string, unknown> }> }) =>
  response.errors?.[0]?.extensions?.code;

const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), ms))]);

/** Waits until an audit line with this action (and target, if given) was written by any process. */
async function auditLine(
  topology: Topology,
  action: string,
  target?: string,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    for (const process of topology.processes.values()) {
      for (const line of process.lines) {
        if (!line.includes(action)) continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (
          entry.log_type === "audit" &&
          entry.action === action &&
          (target === undefined || entry.target === target)
        )
          return entry;
      }
    }
    if (Date.now() > deadline) throw new Error(`no audit line ${action} ${target ?? ""}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Sessions, sign-out, revocation reaching sockets, forward-auth and sign-in limits (AUTH-4, -10, -11). */
export function defineSessionsScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;

  describe("sessions (AUTH-4)", () => {
    it("lists my live sessions with the current one flagged, and revokes only my own", async () => {
      const first = await signedInUser(url());
      const second = await signIn(url(), first.identity);
      const listed = await sessionsOf(url(), second.accessToken);
      expect(listed).toHaveLength(2);
      expect(listed.find((s) => s.current)?.id).toBe(sidOf(second.accessToken));
      expect(listed.find((s) => !s.current)?.id).toBe(sidOf(first.accessToken));
      expect(listed[0]?.ip).toMatch(/127\.0\.0\.1/);
      expect(new Date(listed[0]?.createdAt ?? "").getTime()).toBeGreaterThan(Date.now() - 60_000);

      // Someone else's session id is NOT_FOUND, and nothing happens to it.
      const stranger = await signedInUser(url());
      const foreign = await graphql(
        url(),
        REVOKE,
        { input: { sessionId: sidOf(stranger.accessToken) } },
        second.accessToken,
      );
      expect(codeOf(foreign)).toBe("NOT_FOUND");
      expect(dataOf(await graphql(url(), ME, {}, stranger.accessToken))).toBeTruthy();

      const revoked = dataOf(
        await graphql<{ revokeSession: { sessionId: string } }>(
          url(),
          REVOKE,
          { input: { sessionId: sidOf(first.accessToken) } },
          second.accessToken,
        ),
      );
      expect(revoked.revokeSession.sessionId).toBe(sidOf(first.accessToken));
      // The revoked session can neither call the API nor refresh; the other one still works.
      expect(codeOf(await graphql(url(), ME, {}, first.accessToken))).toBe("UNAUTHENTICATED");
      expect(codeOf(await graphql(url(), REFRESH, { input: { refreshToken: first.refreshToken } }))).toBe(
        "UNAUTHENTICATED",
      );
      expect((await sessionsOf(url(), second.accessToken)).map((s) => s.id)).toEqual([
        sidOf(second.accessToken),
      ]);
      // Revoking it again: it is no longer one of my live sessions.
      expect(
        codeOf(
          await graphql(
            url(),
            REVOKE,
            { input: { sessionId: sidOf(first.accessToken) } },
            second.accessToken,
          ),
        ),
      ).toBe("NOT_FOUND");
    });

    it("signs out everywhere, keeping the current session only when asked", async () => {
      const a = await signedInUser(url());
      const b = await signIn(url(), a.identity);
      const c = await signIn(url(), a.identity);
      const kept = dataOf(
        await graphql<{ signOutEverywhere: { revokedCount: number } }>(
          url(),
          SIGN_OUT_EVERYWHERE,
          { input: { keepCurrent: true } },
          c.accessToken,
        ),
      );
      expect(kept.signOutEverywhere.revokedCount).toBe(2);
      expect(codeOf(await graphql(url(), ME, {}, a.accessToken))).toBe("UNAUTHENTICATED");
      expect(codeOf(await graphql(url(), ME, {}, b.accessToken))).toBe("UNAUTHENTICATED");
      expect(dataOf(await graphql(url(), ME, {}, c.accessToken))).toBeTruthy();
      const all = dataOf(
        await graphql<{ signOutEverywhere: { revokedCount: number } }>(
          url(),
          SIGN_OUT_EVERYWHERE,
          { input: { keepCurrent: false } },
          c.accessToken,
        ),
      );
      expect(all.signOutEverywhere.revokedCount).toBe(1);
      expect(codeOf(await graphql(url(), ME, {}, c.accessToken))).toBe("UNAUTHENTICATED");
    });

    it("closes the sockets of a revoked session with 4401 and keeps the other session's socket open", async () => {
      const first = await signedInUser(url());
      const second = await signIn(url(), first.identity);
      const socketA = wsClient(url(), first.accessToken);
      const socketB = wsClient(url(), second.accessToken);
      const streamA = collect(socketA.client, MY_EVENTS);
      const streamB = collect<{ myEvents: { user: { bio: string } } }>(socketB.client, MY_EVENTS);
      try {
        // Both sockets are live: a profile change reaches both streams.
        await new Promise((resolve) => setTimeout(resolve, 300));
        dataOf(await graphql(url(), UPDATE_PROFILE, { input: { bio: "one" } }, second.accessToken));
        await streamA.waitFor(1);
        await streamB.waitFor(1);

        // RevokeSession of the first, from the second session's HTTP connection.
        dataOf(
          await graphql(
            url(),
            REVOKE,
            { input: { sessionId: sidOf(first.accessToken) } },
            second.accessToken,
          ),
        );
        expect(await within(socketA.closed, 5_000)).toMatchObject({ code: 4401 });
        expect(await auditLine(topology(), "SESSION_REVOKED", sidOf(first.accessToken))).toMatchObject({
          user: first.user.id,
        });
        expect(await within(socketB.closed, 1_500)).toBe("timeout");
        dataOf(await graphql(url(), UPDATE_PROFILE, { input: { bio: "two" } }, second.accessToken));
        expect((await streamB.waitFor(2))[1]?.myEvents.user.bio).toBe("two");

        // signOut from another connection (HTTP) with the second session's token closes its socket.
        dataOf(await graphql(url(), SIGN_OUT, {}, second.accessToken));
        expect(await within(socketB.closed, 5_000)).toMatchObject({ code: 4401 });
        await auditLine(topology(), "SIGN_OUT", sidOf(second.accessToken));
      } finally {
        streamA.dispose();
        streamB.dispose();
        await socketA.client.dispose();
        await socketB.client.dispose();
      }
    });

    it("refuses a new socket for a session that was signed out", async () => {
      const user = await signedInUser(url());
      dataOf(await graphql(url(), SIGN_OUT, {}, user.accessToken));
      const socket = wsClient(url(), user.accessToken);
      try {
        expect(await within(socket.closed, 5_000)).toMatchObject({ code: 4401 });
      } finally {
        await socket.client.dispose();
      }
    });
  });

  describe("forward-auth GET /auth/verify (AUTH-10)", () => {
    const verify = (headers: Record<string, string>) => fetch(`${url()}/auth/verify`, { headers });

    it("answers 200 with X-User-Claim for a live session's token", async () => {
      const user = await signedInUser(url());
      const response = await verify({
        authorization: `Bearer ${user.accessToken}`,
        "x-forwarded-uri": "/app/page?secret=1",
        "x-forwarded-method": "GET",
      });
      expect(response.status).toBe(200);
      expect(JSON.parse(response.headers.get("x-user-claim") ?? "{}")).toEqual({
        userId: user.user.id,
        sessionId: sidOf(user.accessToken),
      });
      expect(await response.text()).not.toContain(user.accessToken);
    });

    it("answers 401 UNAUTHENTICATED for a missing, forged or revoked token, and ignores a client X-User-Claim", async () => {
      const user = await signedInUser(url());
      const [header, payload, signature = ""] = user.accessToken.split(".");
      const forgedPayload = Buffer.from(
        JSON.stringify({ ...JSON.parse(Buffer.from(payload ?? "", "base64url").toString()), sub: "1" }),
      ).toString("base64url");
      const flipped = `${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`;
      const cases: Record<string, Record<string, string>> = {
        missing: {},
        "not bearer": { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` },
        garbage: { authorization: "Bearer not.a.token" },
        "forged payload": { authorization: `Bearer ${header}.${forgedPayload}.${signature}` },
        "bad signature": { authorization: `Bearer ${header}.${payload}.${flipped}` },
        "client claim without token": {
          "x-user-claim": JSON.stringify({ userId: user.user.id, sessionId: "1" }),
        },
      };
      for (const [name, headers] of Object.entries(cases)) {
        const response = await verify(headers);
        expect(response.status, name).toBe(401);
        expect(response.headers.get("x-user-claim"), name).toBeNull();
        expect(await response.json(), name).toMatchObject({ code: "UNAUTHENTICATED" });
      }
      dataOf(await graphql(url(), SIGN_OUT, {}, user.accessToken));
      const revoked = await verify({ authorization: `Bearer ${user.accessToken}` });
      expect(revoked.status).toBe(401);
      expect(revoked.headers.get("x-user-claim")).toBeNull();
    });
  });

  describe("sign-in limits (AUTH-11)", () => {
    it("counts each aliased signIn field as one attempt", async () => {
      const identity = newIdentity();
      dataOf(await graphql(url(), SIGN_UP, { input: identity }));
      const fields = Array.from(
        { length: 11 },
        (_, i) => `s${i}: signIn(input: $input) { accessToken }`,
      ).join("\n");
      const aliased = await graphql<Record<string, { accessToken: string }>>(
        url(),
        `mutation ($input: SignInInput!) { ${fields} }`,
        { input: { email: identity.email, password: identity.password } },
      );
      // Eleven fields, eleven sign-ins: one session each.
      expect(Object.keys(dataOf(aliased))).toHaveLength(11);
      const token = aliased.data?.s10?.accessToken ?? "";
      expect(await sessionsOf(url(), token)).toHaveLength(11);
    });

    it("refuses even the correct password once an account used its attempts, with retryAfterMs", async () => {
      const identity = newIdentity();
      dataOf(await graphql(url(), SIGN_UP, { input: identity }));
      const attempt = (password: string) =>
        graphql(url(), SIGN_IN, { input: { email: identity.email.toUpperCase(), password } });
      // Default limit: 10 attempts per account per 15 minutes.
      for (let i = 0; i < 10; i++) expect(codeOf(await attempt("wrong password"))).toBe("UNAUTHENTICATED");
      // Aliased fields do not get around it: the first one is already refused.
      const aliased = await graphql(
        url(),
        `mutation ($input: SignInInput!) { a: signIn(input: $input) { accessToken } b: signIn(input: $input) { accessToken } }`,
        { input: { email: identity.email, password: identity.password } },
      );
      expect(codeOf(aliased)).toBe("RATE_LIMITED");
      expect(aliased.errors?.[0]?.extensions?.retryAfterMs).toBeGreaterThan(0);
      const refused = await attempt(identity.password);
      expect(codeOf(refused)).toBe("RATE_LIMITED");
      const line = await auditLine(topology(), "SIGN_IN_RATE_LIMITED");
      expect(line).toMatchObject({ outcome: "failure", details: { reason: "account" } });
      expect(JSON.stringify(line)).not.toContain(identity.password);
      // An unknown account answers the same way once over its limit.
      const unknown = { email: `nobody.${Date.now()}@example.org`, password: "x" };
      const answers = [];
      for (let i = 0; i < 11; i++) answers.push(codeOf(await graphql(url(), SIGN_IN, { input: unknown })));
      expect(answers.at(-1)).toBe("RATE_LIMITED");
      expect(answers.slice(0, 10).every((code) => code === "UNAUTHENTICATED")).toBe(true);
    });
  });
}
