import { createHash, randomBytes } from "node:crypto";
import { newId } from "@beep/ids";
import type { AccountRow } from "./account.repository.ts";
import type { SessionRepository } from "./session.repository.ts";
import type { TokenIssuer } from "./token-issuer.ts";
import { type SessionTokensView, toUserView } from "./user-view.ts";

/** SHA-256 of a refresh token: only the hash is stored, so a database leak yields no usable token. */
export function hashRefreshToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** A new opaque refresh token (256 random bits). */
export function newRefreshToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * Starts sessions: every way in (password, one-time code, OIDC, LDAP) ends
 * here once the user is proven, so sessions and tokens are made one way.
 */
export class SessionIssuer {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly tokens: TokenIssuer,
    private readonly refreshTokenTtlDays: number,
  ) {}

  /** Creates a session for the account and returns its first tokens. */
  async issue(account: AccountRow, client: { device: string; ip: string }): Promise<SessionTokensView> {
    const sessionId = newId();
    const refreshToken = newRefreshToken();
    const refreshExpiresAt = new Date(Date.now() + this.refreshTokenTtlDays * 86_400_000);
    await this.sessions.create(
      {
        id: sessionId,
        accountId: String(account.id),
        device: client.device.slice(0, 256),
        ip: client.ip.slice(0, 64),
        expiresAt: refreshExpiresAt,
      },
      hashRefreshToken(refreshToken),
    );
    const access = await this.tokens.signAccessToken(String(account.id), sessionId);
    return {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt.toISOString(),
      refreshToken,
      refreshTokenExpiresAt: refreshExpiresAt.toISOString(),
      user: toUserView(account),
    };
  }
}
