import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { describe, expect, it, vi } from "vitest";
import { createAccessTokenVerifier, parseBearer } from "./access-token.ts";

async function signer(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" };
  const sign = (overrides: { iss?: string; aud?: string; exp?: string; typ?: string } = {}) =>
    new SignJWT({ sid: "session-1" })
      .setProtectedHeader({ alg: "EdDSA", kid, typ: overrides.typ ?? "at+jwt" })
      .setIssuer(overrides.iss ?? "beep")
      .setAudience(overrides.aud ?? "beep-api")
      .setSubject("42")
      .setIssuedAt()
      .setExpirationTime(overrides.exp ?? "5m")
      .sign(privateKey);
  return { jwk, sign };
}

function unsigned(header: object, payload: object): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part(header)}.${part(payload)}.`;
}

describe("access token verifier", () => {
  it("accepts a valid token and returns user and session", async () => {
    const key = await signer("k1");
    const verifier = createAccessTokenVerifier({
      issuer: "beep",
      audience: "beep-api",
      fetchJwks: async () => ({ keys: [key.jwk] }),
    });
    const claims = await verifier.verify(await key.sign());
    expect(claims.userId).toBe("42");
    expect(claims.sessionId).toBe("session-1");
  });

  it("refuses wrong issuer, audience, type, expired and garbage, all as UNAUTHENTICATED", async () => {
    const key = await signer("k1");
    const verifier = createAccessTokenVerifier({
      issuer: "beep",
      audience: "beep-api",
      fetchJwks: async () => ({ keys: [key.jwk] }),
    });
    for (const token of [
      await key.sign({ iss: "evil" }),
      await key.sign({ aud: "other" }),
      await key.sign({ typ: "JWT" }),
      await key.sign({ exp: "-1m" }),
      "not.a.token",
      "",
    ]) {
      await expect(verifier.verify(token)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    }
  });

  it("refuses alg none and HS256 signed with the public key (algorithm confusion)", async () => {
    const key = await signer("k1");
    const verifier = createAccessTokenVerifier({
      issuer: "beep",
      audience: "beep-api",
      fetchJwks: async () => ({ keys: [key.jwk] }),
    });
    const claims = { sub: "1", sid: "s", iss: "beep", aud: "beep-api", iat: 1, exp: 4_000_000_000 };
    await expect(
      verifier.verify(unsigned({ alg: "none", kid: "k1", typ: "at+jwt" }, claims)),
    ).rejects.toMatchObject({
      code: "UNAUTHENTICATED",
    });
    const hmacKey = new TextEncoder().encode(JSON.stringify(key.jwk));
    const confused = await new SignJWT({ sid: "s" })
      .setProtectedHeader({ alg: "HS256", kid: "k1", typ: "at+jwt" })
      .setIssuer("beep")
      .setAudience("beep-api")
      .setSubject("1")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(hmacKey);
    await expect(verifier.verify(confused)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
  });

  it("refetches the JWKS when a token names a new key (rotation), but not on every forged kid", async () => {
    const first = await signer("k1");
    const second = await signer("k2");
    let keys = [first.jwk];
    let fetches = 0;
    const verifier = createAccessTokenVerifier({
      issuer: "beep",
      audience: "beep-api",
      refetchCooldownMs: 0,
      fetchJwks: async () => {
        fetches++;
        return { keys };
      },
    });
    await verifier.verify(await first.sign());
    keys = [first.jwk, second.jwk];
    await expect(verifier.verify(await second.sign())).resolves.toMatchObject({ userId: "42" });
    expect(fetches).toBe(2);

    const throttled = createAccessTokenVerifier({
      issuer: "beep",
      audience: "beep-api",
      refetchCooldownMs: 60_000,
      fetchJwks: async () => {
        fetches++;
        return { keys: [first.jwk] };
      },
    });
    fetches = 0;
    await throttled.verify(await first.sign());
    for (let i = 0; i < 5; i++) await expect(throttled.verify(await second.sign())).rejects.toThrow();
    expect(fetches).toBe(1);
  });

  it("accepts a remembered token again, and refuses it once expired", async () => {
    const first = await signer("k1");
    let keys = [first.jwk];
    const verifier = createAccessTokenVerifier({
      issuer: "beep",
      audience: "beep-api",
      maxAgeMs: 60_000,
      fetchJwks: async () => ({ keys }),
    });
    const token = await first.sign({ exp: "3s" });
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: "42", sessionId: "session-1" });
    // The key set changes but is not refetched yet: the remembered answer stands.
    keys = [];
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: "42" });
    // Expired: refused although remembered.
    vi.useFakeTimers({ now: Date.now() + 4_000, toFake: ["Date"] });
    try {
      await expect(verifier.verify(token)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    } finally {
      vi.useRealTimers();
    }
  });

  it("forgets verified tokens when the key set is refetched (a retired key's tokens stop working)", async () => {
    const first = await signer("k1");
    let keys = [first.jwk];
    const verifier = createAccessTokenVerifier({
      issuer: "beep",
      audience: "beep-api",
      maxAgeMs: 0,
      fetchJwks: async () => ({ keys }),
    });
    const token = await first.sign();
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: "42" });
    keys = [];
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
  });

  it("parses bearer headers", () => {
    expect(parseBearer("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(parseBearer("bearer abc")).toBe("abc");
    expect(parseBearer("Basic abc")).toBeUndefined();
    expect(parseBearer(undefined)).toBeUndefined();
  });
});
