import { type AccessClaims, type AccessTokenVerifier, parseBearer } from "@beep/auth";
import { BeepError } from "@beep/errors";
import type { HandlerContext } from "@connectrpc/connect";

/**
 * Who is calling an RPC: the access token forwarded in the `authorization`
 * header, verified here with users' own keys. Every RPC that acts for a user
 * goes through this; none trusts a user id in a message.
 */
export class CallerAuthenticator {
  constructor(
    private readonly verifier: AccessTokenVerifier,
    /** Refuses tokens of revoked or expired sessions (AUTH-4); see SessionLiveness for the cache trade-off. */
    private readonly sessions?: { isLive(sessionId: string, userId: string): Promise<boolean> },
  ) {}

  /** The caller's claims, or UNAUTHENTICATED. */
  async authenticate(context: HandlerContext): Promise<AccessClaims> {
    const token = parseBearer(context.requestHeader.get("authorization"));
    if (!token) throw new BeepError("UNAUTHENTICATED", "Authentication required");
    const claims = await this.verifier.verify(token);
    if (this.sessions && !(await this.sessions.isLive(claims.sessionId, claims.userId))) {
      throw new BeepError("UNAUTHENTICATED", "Session ended; sign in again");
    }
    return claims;
  }
}
