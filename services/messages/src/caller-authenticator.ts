import { type AccessTokenVerifier, parseBearer, type RevokedSessions } from "@beep/auth";
import { BeepError } from "@beep/errors";
import type { HandlerContext } from "@connectrpc/connect";

/** The verified caller of an RPC and the header to act for them towards users. */
export interface AuthenticatedCaller {
  userId: string;
  authorization: string;
}

/**
 * Who is calling: the access token forwarded in `authorization`, verified here against users' JWKS (as
 * servers does). Sessions revoked since this process started (`session.revoked`) are refused.
 */
export class CallerAuthenticator {
  constructor(
    private readonly verifier: AccessTokenVerifier,
    private readonly revoked?: RevokedSessions,
  ) {}

  /** The caller, or UNAUTHENTICATED. */
  async authenticate(context: HandlerContext): Promise<AuthenticatedCaller> {
    const header = context.requestHeader.get("authorization");
    const token = parseBearer(header);
    if (!token || !header) throw new BeepError("UNAUTHENTICATED", "Authentication required");
    const claims = await this.verifier.verify(token);
    if (this.revoked?.isRevoked(claims.sessionId))
      throw new BeepError("UNAUTHENTICATED", "Session has ended");
    return { userId: claims.userId, authorization: header };
  }
}
