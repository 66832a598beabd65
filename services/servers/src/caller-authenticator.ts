import { type AccessTokenVerifier, parseBearer, type RevokedSessions } from "@beep/auth";
import { BeepError } from "@beep/errors";
import type { HandlerContext } from "@connectrpc/connect";
import type { Caller } from "./servers.service.ts";

/**
 * Who is calling: the access token forwarded in `authorization`, verified here against users' JWKS
 * (fetched through the users client, so it works in one process or split). No service trusts a user id
 * in a message. Sessions revoked since this process started (`session.revoked` events) are refused;
 * `users` remains the authority on sessions.
 */
export class CallerAuthenticator {
  constructor(
    private readonly verifier: AccessTokenVerifier,
    private readonly revoked?: RevokedSessions,
  ) {}

  /** The caller, or UNAUTHENTICATED. */
  async authenticate(context: HandlerContext): Promise<Caller> {
    const token = parseBearer(context.requestHeader.get("authorization"));
    if (!token) throw new BeepError("UNAUTHENTICATED", "Authentication required");
    const claims = await this.verifier.verify(token);
    if (this.revoked?.isRevoked(claims.sessionId))
      throw new BeepError("UNAUTHENTICATED", "Session has ended");
    return { userId: claims.userId };
  }
}
