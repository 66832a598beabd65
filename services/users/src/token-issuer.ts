import { ACCESS_TOKEN_TYPE } from "@beep/auth";
import { newId } from "@beep/ids";
import { exportJWK, generateKeyPair, importJWK, type JSONWebKeySet, type JWK, SignJWT } from "jose";
import type { SigningKeyRepository } from "./signing-key.repository.ts";

/** Token settings from the `auth.*` configuration. */
export interface TokenIssuerOptions {
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
}

/** A freshly signed access token. */
export interface IssuedAccessToken {
  token: string;
  expiresAt: Date;
}

type SigningKey = Awaited<ReturnType<typeof importJWK>>;

/**
 * Signs EdDSA access tokens with the newest active key and publishes every
 * active public key as a JWKS, so tokens signed before a rotation stay valid.
 */
export class TokenIssuer {
  private current: { kid: string; key: SigningKey } | undefined;
  private jwks: JSONWebKeySet = { keys: [] };

  constructor(
    private readonly keys: SigningKeyRepository,
    private readonly options: TokenIssuerOptions,
  ) {}

  /** Loads the active keys, creating the first one on a new database. */
  async load(): Promise<void> {
    let active = await this.keys.listActive();
    if (active.length === 0) {
      // Why epoch: "unless any active key exists", so processes starting together create one key.
      await this.rotate(new Date(0));
      active = await this.keys.listActive();
    }
    const newest = active[0];
    if (!newest) throw new Error("no signing key after creating one");
    this.current = { kid: newest.kid, key: await importJWK(newest.privateJwk as JWK, "EdDSA") };
    this.jwks = { keys: active.map((key) => key.publicJwk as JWK) };
  }

  /**
   * Creates a new signing key, unless an active key newer than `notBefore` exists (omit it to force);
   * it signs from the next `load()` of each process. True when a key was created.
   */
  async rotate(notBefore?: Date, now = new Date()): Promise<boolean> {
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const kid = newId();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" };
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: "EdDSA" };
    return this.keys.insertIfNoKeySince({ kid, privateJwk, publicJwk }, notBefore, now);
  }

  /** The key id new tokens carry. */
  currentKid(): string | undefined {
    return this.current?.kid;
  }

  /** Public keys as a JWKS document. */
  publicJwks(): JSONWebKeySet {
    return this.jwks;
  }

  /** Signs an access token for a user's session. */
  async signAccessToken(userId: string, sessionId: string): Promise<IssuedAccessToken> {
    if (!this.current) throw new Error("TokenIssuer.load() was not called");
    const expiresAt = new Date(Date.now() + this.options.accessTokenTtlSeconds * 1000);
    const token = await new SignJWT({ sid: sessionId })
      .setProtectedHeader({ alg: "EdDSA", kid: this.current.kid, typ: ACCESS_TOKEN_TYPE })
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setSubject(userId)
      .setJti(newId())
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.current.key);
    return { token, expiresAt };
  }
}
