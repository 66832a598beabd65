import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { collect, dataOf, graphql, type WsClient, wsClient } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";

const USER_FIELDS = "id username email firstName lastName displayName bio createdAt updatedAt";
const SIGN_UP = `mutation ($input: SignUpInput!) { signUp(input: $input) { user { ${USER_FIELDS} } } }`;
const SIGN_IN = `mutation ($input: SignInInput!) { signIn(input: $input) {
  accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt user { id username } } }`;
const REFRESH = `mutation ($input: RefreshSessionInput!) { refreshSession(input: $input) { accessToken refreshToken } }`;
const ME = `{ me { ${USER_FIELDS} } }`;
const UPDATE_PROFILE = `mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { user { ${USER_FIELDS} } } }`;
const MY_EVENTS = `subscription { myEvents { __typename ... on UserUpdated { user { id displayName bio } } } }`;

/** A fresh, unique identity for one scenario. */
export function newIdentity() {
  const tag = randomBytes(5).toString("hex");
  return {
    email: `Ada.${tag}@Example.org`,
    username: `ada_${tag}`,
    password: `correct horse battery ${tag} ✓`,
    firstName: "Ada",
    lastName: "Lovelace",
  };
}

/** Signs up and signs in a new user; returns its tokens and identity. */
export async function signedInUser(baseUrl: string) {
  const identity = newIdentity();
  dataOf(await graphql(baseUrl, SIGN_UP, { input: identity }));
  const { signIn } = dataOf(
    await graphql<{ signIn: { accessToken: string; refreshToken: string; user: { id: string } } }>(
      baseUrl,
      SIGN_IN,
      {
        input: { email: identity.email, password: identity.password },
      },
    ),
  );
  return { identity, ...signIn };
}

/** Runs one operation over a graphql-ws connection: its result, or the errors it was refused with. */
function runOverSocket(
  socket: WsClient,
  query: string,
  variables: Record<string, unknown>,
  operationName?: string,
): Promise<{ data?: unknown; errors?: unknown[] }> {
  return new Promise((resolve) => {
    let answer: { data?: unknown; errors?: unknown[] } = {};
    socket.client.subscribe(
      { query, variables, operationName },
      {
        next: (result) => {
          answer = result as typeof answer;
        },
        error: (errors) => resolve({ errors: errors as unknown[] }),
        complete: () => resolve(answer),
      },
    );
  });
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The walking-skeleton scenarios; run unchanged against every topology. */
export function defineIdentityScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;

  describe("sign up, sign in, profile, events", () => {
    it("signs up, signs in with the email in any case, and reads itself", async () => {
      const identity = newIdentity();
      const signUp = dataOf(
        await graphql<{ signUp: { user: Record<string, string> } }>(url(), SIGN_UP, { input: identity }),
      );
      expect(signUp.signUp.user).toMatchObject({
        username: identity.username,
        email: identity.email,
        firstName: "Ada",
      });
      expect(signUp.signUp.user.id).toMatch(/^\d+$/);

      const signIn = dataOf(
        await graphql<{
          signIn: { accessToken: string; accessTokenExpiresAt: string; refreshToken: string };
        }>(url(), SIGN_IN, {
          input: { email: identity.email.toUpperCase(), password: identity.password },
        }),
      ).signIn;
      expect(signIn.accessToken.split(".")).toHaveLength(3);
      expect(new Date(signIn.accessTokenExpiresAt).getTime()).toBeGreaterThan(Date.now());

      const me = dataOf(await graphql<{ me: Record<string, string> }>(url(), ME, {}, signIn.accessToken)).me;
      expect(me).toEqual(signUp.signUp.user);
    });

    it("delivers user.updated to a subscription on another connection", async () => {
      const user = await signedInUser(url());
      const watcher = wsClient(url(), user.accessToken);
      const stream = collect<{
        myEvents: { __typename: string; user: { id: string; displayName: string; bio: string } };
      }>(watcher.client, MY_EVENTS);
      try {
        await pause(300);
        const updated = dataOf(
          await graphql<{ updateProfile: { user: { displayName: string; updatedAt: string } } }>(
            url(),
            UPDATE_PROFILE,
            { input: { displayName: "Countess of Lovelace", bio: "First programmer" } },
            user.accessToken,
          ),
        );
        expect(updated.updateProfile.user.displayName).toBe("Countess of Lovelace");
        const [event] = await stream.waitFor(1);
        expect(stream.errors).toEqual([]);
        expect(event?.myEvents).toEqual({
          __typename: "UserUpdated",
          user: { id: user.user.id, displayName: "Countess of Lovelace", bio: "First programmer" },
        });
        const me = dataOf(await graphql<{ me: { displayName: string } }>(url(), ME, {}, user.accessToken)).me;
        expect(me.displayName).toBe("Countess of Lovelace");
      } finally {
        stream.dispose();
        await watcher.client.dispose();
      }
    });

    it("does not deliver one user's events to another user's subscription", async () => {
      const alice = await signedInUser(url());
      const bob = await signedInUser(url());
      const bobSocket = wsClient(url(), bob.accessToken);
      const bobStream = collect<{ myEvents: { user: { id: string } } }>(bobSocket.client, MY_EVENTS);
      try {
        await pause(300);
        dataOf(await graphql(url(), UPDATE_PROFILE, { input: { bio: "alice only" } }, alice.accessToken));
        dataOf(await graphql(url(), UPDATE_PROFILE, { input: { bio: "bob's" } }, bob.accessToken));
        const events = await bobStream.waitFor(1);
        await pause(300);
        expect(events.map((e) => e.myEvents.user.id)).toEqual([bob.user.id]);
      } finally {
        bobStream.dispose();
        await bobSocket.client.dispose();
      }
    });

    it("rotates refresh tokens and revokes the session when an old one is reused", async () => {
      const user = await signedInUser(url());
      const first = dataOf(
        await graphql<{ refreshSession: { accessToken: string; refreshToken: string } }>(url(), REFRESH, {
          input: { refreshToken: user.refreshToken },
        }),
      ).refreshSession;
      expect(first.refreshToken).not.toBe(user.refreshToken);
      dataOf(await graphql(url(), ME, {}, first.accessToken));

      const reuse = await graphql(url(), REFRESH, { input: { refreshToken: user.refreshToken } });
      expect(reuse.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      // The reuse revoked the family: even the newest refresh token is dead now.
      const after = await graphql(url(), REFRESH, { input: { refreshToken: first.refreshToken } });
      expect(after.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    });
  });

  describe("bad input gets a clear, typed error and changes nothing", () => {
    it("gives the same answer for an unknown email and a wrong password", async () => {
      const user = await signedInUser(url());
      const unknown = await graphql(url(), SIGN_IN, {
        input: { email: `nobody.${user.identity.email}`, password: "whatever123" },
      });
      const wrong = await graphql(url(), SIGN_IN, {
        input: { email: user.identity.email, password: "wrong-password" },
      });
      expect(unknown.errors?.[0]).toMatchObject({
        message: "Invalid email or password",
        extensions: { code: "UNAUTHENTICATED" },
      });
      expect(wrong.errors?.[0]?.message).toBe(unknown.errors?.[0]?.message);
      expect(wrong.errors?.[0]?.extensions?.code).toBe(unknown.errors?.[0]?.extensions?.code);
    });

    it("refuses a taken email or username (any case) with CONFLICT naming the field", async () => {
      const user = await signedInUser(url());
      const sameEmail = await graphql(url(), SIGN_UP, {
        input: { ...newIdentity(), email: user.identity.email.toLowerCase() },
      });
      expect(sameEmail.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", field: "email" });
      const sameUsername = await graphql(url(), SIGN_UP, {
        input: { ...newIdentity(), username: user.identity.username.toUpperCase() },
      });
      expect(sameUsername.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", field: "username" });
    });

    it("names the bad field of an invalid sign-up and creates nothing", async () => {
      const identity = newIdentity();
      for (const [field, value] of [
        ["email", "not-an-email"],
        ["username", "a"],
        ["password", "short"],
        ["password", "password1"],
        ["firstName", "   "],
      ] as const) {
        const response = await graphql(url(), SIGN_UP, { input: { ...identity, [field]: value } });
        expect(response.status).toBe(200);
        expect(response.errors?.[0]?.extensions, `${field}=${value}`).toMatchObject({
          code: "BAD_USER_INPUT",
          field,
        });
      }
      const signIn = await graphql(url(), SIGN_IN, {
        input: { email: identity.email, password: identity.password },
      });
      expect(signIn.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    });

    it("answers a bad or missing token with UNAUTHENTICATED, never a 500", async () => {
      const missing = await graphql(url(), ME);
      expect(missing.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      const forged = await graphql(url(), ME, {}, "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.");
      expect(forged.status).toBe(401);
      expect(forged.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      const response = await fetch(`${url()}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Basic YWxhZGRpbjpvcGVuc2VzYW1l" },
        body: JSON.stringify({ query: ME }),
      });
      expect(response.status).toBe(401);
    });

    it("answers malformed GraphQL with 400 and a code", async () => {
      const response = await graphql(url(), "{ me { id ");
      expect(response.status).toBe(400);
      expect(response.errors?.[0]?.extensions?.code).toBe("GRAPHQL_PARSE_FAILED");
      const notJson = await fetch(`${url()}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{not json",
      });
      expect(notJson.status).toBe(400);
      const unknownField = await graphql(url(), "{ nope }");
      expect(unknownField.status).toBe(400);
      expect(unknownField.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    });

    it("refuses an over-deep, alias-bombed or oversized query before running it", async () => {
      const nested = `{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } }`;
      const tooDeep = await graphql(url(), nested);
      expect(tooDeep.status).toBe(400);
      expect(tooDeep.errors?.[0]?.extensions?.code).toBe("LIMIT_EXCEEDED");
      const aliases = `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: me { id }`).join(" ")} }`;
      const aliased = await graphql(url(), aliases);
      expect(aliased.errors?.[0]?.extensions?.code).toBe("LIMIT_EXCEEDED");
    });

    it("refuses a document over the token limit over HTTP and WebSocket, running nothing", async () => {
      const user = await signedInUser(url());
      // Over the default graphql.maxTokens (2,000) by operations no other limit or rule minds (each 5
      // tokens): without the token limit the mutation named below runs and sets the bio.
      const padding = Array.from({ length: 420 }, (_, i) => `query P${i} { __typename }`).join(" ");
      const padded = `mutation Update($input: UpdateProfileInput!) {
        updateProfile(input: $input) { user { id } } } ${padding}`;
      const overHttp = await graphql(
        url(),
        padded,
        { input: { bio: "over http" } },
        user.accessToken,
        "Update",
      );
      expect(overHttp.status).toBe(400);
      expect(overHttp.data).toBeUndefined();
      expect(overHttp.errors).toEqual([
        expect.objectContaining({
          message: "Token limit of 2000 exceeded.",
          extensions: { code: "LIMIT_EXCEEDED" },
        }),
      ]);
      const socket = wsClient(url(), user.accessToken);
      const overSocket = await runOverSocket(socket, padded, { input: { bio: "over ws" } }, "Update");
      expect(overSocket).toEqual({
        errors: [
          expect.objectContaining({
            message: "Token limit of 2000 exceeded.",
            extensions: { code: "LIMIT_EXCEEDED" },
          }),
        ],
      });
      await socket.client.dispose();
      const me = dataOf(
        await graphql<{ me: { bio: string | null } }>(url(), "{ me { bio } }", {}, user.accessToken),
      );
      expect(me.me.bio ?? "").toBe("");
    });

    it("answers variables that do not fit their types with BAD_USER_INPUT over HTTP and WebSocket", async () => {
      const user = await signedInUser(url());
      const overHttp = await graphql(url(), UPDATE_PROFILE, { input: { bio: 5 } }, user.accessToken);
      expect(overHttp.status).toBe(400);
      expect(overHttp.data).toBeUndefined();
      expect(overHttp.errors).toEqual([
        expect.objectContaining({
          message: expect.stringMatching(/^Variable "\$input" got invalid value 5 at "input\.bio"; /),
          extensions: { code: "BAD_USER_INPUT" },
        }),
      ]);
      const missing = await graphql(url(), UPDATE_PROFILE, {}, user.accessToken);
      expect(missing.errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT" });
      const socket = wsClient(url(), user.accessToken);
      const overSocket = await runOverSocket(socket, UPDATE_PROFILE, { input: { bio: 5 } });
      expect(overSocket.errors).toEqual([
        expect.objectContaining({
          message: expect.stringMatching(/^Variable "\$input" got invalid value 5/),
          extensions: { code: "BAD_USER_INPUT" },
        }),
      ]);
      await socket.client.dispose();
    });

    it("closes a WebSocket with 4401 for a bad token and refuses myEvents without one", async () => {
      const bad = wsClient(url(), "not-a-token");
      expect((await bad.closed).code).toBe(4401);
      await bad.client.dispose();

      const anonymous = wsClient(url());
      const stream = collect(anonymous.client, MY_EVENTS);
      await stream.waitFor(1).catch(() => undefined);
      expect(JSON.stringify(stream.errors)).toContain("UNAUTHENTICATED");
      stream.dispose();
      await anonymous.client.dispose();
    });
  });

  describe("operations", () => {
    it("answers /healthz, /readyz and /metrics", async () => {
      for (const process of topology().processes.values()) {
        expect((await fetch(`${process.url}/healthz`)).status).toBe(200);
        expect((await fetch(`${process.url}/readyz`)).status).toBe(200);
        const metrics = await (await fetch(`${process.url}/metrics`)).text();
        expect(metrics).toContain("http_requests_total");
      }
    });

    it("carries the caller's W3C trace id through the gateway and the RPC to users", async () => {
      const user = await signedInUser(url());
      const traceId = randomBytes(16).toString("hex");
      const response = await fetch(`${url()}/graphql`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${user.accessToken}`,
          traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01`,
        },
        body: JSON.stringify({ query: ME }),
      });
      expect(response.status).toBe(200);
      await pause(300);
      const traced = [...topology().processes.values()].flatMap((process) =>
        process.lines
          .filter((line) => line.includes(traceId))
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      );
      // The gateway's access log and users' RPC log both name the caller's trace.
      expect(traced.some((line) => line.request_url === "/graphql" && line.trace_id === traceId)).toBe(true);
      expect(traced.some((line) => line.rpc_method === "GetMe" && line.trace_id === traceId)).toBe(true);
    });

    it("writes one JSON object per stdout line in the seeds' format, with no secret in it", async () => {
      const user = await signedInUser(url());
      await pause(200);
      for (const process of topology().processes.values()) {
        expect(process.lines.length).toBeGreaterThan(0);
        for (const line of process.lines) {
          const entry = JSON.parse(line) as Record<string, unknown>;
          expect(Object.keys(entry)).toEqual(
            expect.arrayContaining(["level", "timestamp", "service", "container_id"]),
          );
          expect(line).not.toContain(user.identity.password);
          expect(line).not.toContain(user.refreshToken);
          expect(line).not.toContain(user.accessToken);
        }
      }
    });
  });
}
