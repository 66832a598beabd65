import { BeepError } from "@beep/errors";
import { createLocalJWKSet, type JSONWebKeySet, errors as joseErrors, jwtVerify } from "jose";

/** The only signature algorithm Beep accepts; anything else (none, HS*, RS*) is refused before verification. */
export const ACCESS_TOKEN_ALGORITHMS = ["EdDSA"] as const;
/** `typ` header of access tokens (RFC 9068), so an ID or refresh token cannot pass as one. */
export const ACCESS_TOKEN_TYPE = "at+jwt";

/** Who an access token speaks for. */
export interface AccessClaims {
  userId: string;
  sessionId: string;
  expiresAt: Date;
}

/** Options of {@link createAccessTokenVerifier}. */
export interface AccessTokenVerifierOptions {
  issuer: string;
  audience: string;
  /** Fetches the current JWKS from `users`; called at first use and when a token names an unknown key. */
  fetchJwks: () => Promise<JSONWebKeySet>;
  /** Least time between two refetches caused by unknown keys, so forged kids cannot hammer `users`. */
  refetchCooldownMs?: number;
  /** Refetches a JWKS older than this even for known keys, so retired keys drop out (default: never). */
  maxAgeMs?: number;
  /** Verified tokens remembered (default 10,000); 0 verifies every signature again. */
  maxCachedTokens?: number;
}

/** Verifies access tokens locally against a cached JWKS. */
export interface AccessTokenVerifier {
  /** Resolves to the claims, or throws a BeepError UNAUTHENTICATED. */
  verify(token: string): Promise<AccessClaims>;
}

/** Creates a verifier that caches the JWKS and refreshes it on key rotation. */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const cooldownMs = options.refetchCooldownMs ?? 30_000;
  const maxAgeMs = options.maxAgeMs ?? Number.POSITIVE_INFINITY;
  let keySet: ReturnType<typeof createLocalJWKSet> | undefined;
  let knownKids = new Set<string>();
  let lastFetch = 0;
  let inflight: Promise<void> | undefined;
  // Why: an Ed25519 check costs ~0.1 ms of main-thread CPU and the same token comes back on every request
  // and again on each service hop (bench/README: ~9% of an all-in-one process under sends). A token
  // string is accepted again without the signature check only while it is unexpired and the key set it
  // was checked against is unchanged: every JWKS refresh empties the cache, so a retired key's tokens drop
  // out as before. Bounded: clearing when full only costs extra checks.
  const maxCached = options.maxCachedTokens ?? 10_000;
  const verified = new Map<string, AccessClaims>();

  const refresh = (): Promise<void> => {
    inflight ??= options
      .fetchJwks()
      .then((jwks) => {
        keySet = createLocalJWKSet(jwks);
        verified.clear();
        knownKids = new Set(
          jwks.keys.map((key) => key.kid).filter((kid): kid is string => typeof kid === "string"),
        );
        lastFetch = Date.now();
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };

  return {
    async verify(token: string): Promise<AccessClaims> {
      const now = Date.now();
      // A remembered token was checked against the current key set (a refresh empties the cache), so
      // only its expiry and the key set's age decide; its header need not be read again.
      if (keySet && now - lastFetch < maxAgeMs) {
        const known = verified.get(token);
        if (known) {
          if (known.expiresAt.getTime() > now) return { ...known };
          verified.delete(token);
        }
      }
      const kid = readKid(token);
      const age = now - lastFetch;
      if (!keySet || age >= maxAgeMs || (!knownKids.has(kid) && age >= cooldownMs)) {
        try {
          await refresh();
        } catch (cause) {
          throw new BeepError("UNAVAILABLE", "Cannot verify tokens right now", {}, { cause });
        }
      }
      const known = verified.get(token);
      if (known) {
        if (known.expiresAt.getTime() > Date.now()) return { ...known };
        verified.delete(token);
      }
      try {
        const { payload } = await jwtVerify(token, keySet as ReturnType<typeof createLocalJWKSet>, {
          algorithms: [...ACCESS_TOKEN_ALGORITHMS],
          issuer: options.issuer,
          audience: options.audience,
          typ: ACCESS_TOKEN_TYPE,
          requiredClaims: ["sub", "sid", "exp", "iat"],
        });
        if (
          typeof payload.sub !== "string" ||
          typeof payload.sid !== "string" ||
          typeof payload.exp !== "number"
        ) {
          throw new BeepError("UNAUTHENTICATED", "Invalid access token");
        }
        const claims = {
          userId: payload.sub,
          sessionId: payload.sid,
          expiresAt: new Date(payload.exp * 1000),
        };
        // Only under a known kid, so that a remembered token never needs the unknown-kid refetch above.
        if (maxCached > 0 && knownKids.has(kid)) {
          if (verified.size >= maxCached) verified.clear();
          verified.set(token, claims);
        }
        return { ...claims };
      } catch (error) {
        if (error instanceof BeepError) throw error;
        if (error instanceof joseErrors.JWTExpired)
          throw new BeepError("UNAUTHENTICATED", "Access token expired");
        throw new BeepError("UNAUTHENTICATED", "Invalid access token");
      }
    },
  };
}

function readKid(token: string): string {
  const header = token.split(".")[0] ?? "";
  try {
    const parsed = JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as { kid?: unknown };
    return typeof parsed.kid === "string" ? parsed.kid : "";
  } catch {
    throw new BeepError("UNAUTHENTICATED", "Invalid access token");
  }
}

/** The token of an `Authorization: Bearer …` value, or undefined. */
export function parseBearer(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const match = /^Bearer\s+([A-Za-z0-9\-_.~+/]+=*)$/i.exec(value.trim());
  return match?.[1];
}
