import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ACCESS_TOKEN_TYPE, createAccessTokenVerifier } from "@beep/auth";
import { BeepError } from "@beep/errors";
import { createLogger } from "@beep/observability";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createForwardAuthHandler, FORWARD_AUTH_PATH } from "./forward-auth.ts";

const logger = createLogger({ service: "forward-auth-test", level: "silent" });
let server: Server;
let base: string;
let sign: (claims: { sub: string; sid: string }, expiresAt: number) => Promise<string>;
const revoked = new Set<string>();
let sessionChecks = 0;

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "EdDSA", use: "sig" };
  sign = (claims, expiresAt) =>
    new SignJWT({ sid: claims.sid })
      .setProtectedHeader({ alg: "EdDSA", kid: "k1", typ: ACCESS_TOKEN_TYPE })
      .setIssuer("beep")
      .setAudience("beep-api")
      .setSubject(claims.sub)
      .setIssuedAt(expiresAt - 900)
      .setExpirationTime(expiresAt)
      .sign(privateKey);
  const verifier = createAccessTokenVerifier({
    issuer: "beep",
    audience: "beep-api",
    fetchJwks: async () => ({ keys: [jwk] }),
  });
  // Stands in for the users RPC: the session store of this test.
  const checkSession = async (token: string) => {
    sessionChecks++;
    const claims = await verifier.verify(token);
    if (revoked.has(claims.sessionId)) throw new BeepError("UNAUTHENTICATED", "Session ended");
    return { userId: claims.userId, sessionId: claims.sessionId };
  };
  const handler = createForwardAuthHandler({ verifier, checkSession, logger });
  server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}${FORWARD_AUTH_PATH}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const now = () => Math.floor(Date.now() / 1000);

describe("forward-auth handler", () => {
  it("answers 200 with the claim for a valid token of a live session", async () => {
    const token = await sign({ sub: "42", sid: "7" }, now() + 600);
    const response = await fetch(base, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.headers.get("x-user-claim") ?? "")).toEqual({ userId: "42", sessionId: "7" });
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("answers 401 for an expired token without asking users", async () => {
    const token = await sign({ sub: "42", sid: "8" }, now() - 120);
    const before = sessionChecks;
    const response = await fetch(base, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ code: "UNAUTHENTICATED", message: "Authentication required" });
    expect(response.headers.get("x-user-claim")).toBeNull();
    expect(sessionChecks).toBe(before);
  });

  it("answers 401 for a revoked session's still-unexpired token", async () => {
    const token = await sign({ sub: "42", sid: "9" }, now() + 600);
    revoked.add("9");
    const response = await fetch(base, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get("x-user-claim")).toBeNull();
  });

  it("answers 401 for a missing or non-bearer token", async () => {
    expect((await fetch(base)).status).toBe(401);
    expect((await fetch(base, { headers: { authorization: "Basic YTpi" } })).status).toBe(401);
  });
});
