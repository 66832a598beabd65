import { BeepError } from "@beep/errors";
import { type AccessTokenVerifier, parseBearer } from "./access-token.ts";
import type { RevokedSessions } from "./revoked-sessions.ts";

/** The verified caller of an RPC, and the header to act for them towards other services. */
export interface AuthenticatedCaller {
  userId: string;
  authorization: string;
}

/**
 * Who is calling a service's RPC: the access token forwarded in `authorization`, verified locally
 * against users' JWKS (the verifier fetches it through the users client, so it works in one process or
 * split). No service trusts a user id in a message. Sessions revoked since this process started
 * (`session.revoked` events) are refused; `users` remains the authority on sessions.
 */
export class CallerAuthenticator {
  constructor(
    private readonly verifier: AccessTokenVerifier,
    private readonly revoked?: RevokedSessions,
  ) {}

  /** The caller, or UNAUTHENTICATED. `context` is a Connect handler context (only its headers are read). */
  async authenticate(context: { requestHeader: Headers }): Promise<AuthenticatedCaller> {
    const header = context.requestHeader.get("authorization");
    const token = parseBearer(header);
    if (!token || !header) throw new BeepError("UNAUTHENTICATED", "Authentication required");
    const claims = await this.verifier.verify(token);
    if (this.revoked?.isRevoked(claims.sessionId))
      throw new BeepError("UNAUTHENTICATED", "Session has ended");
    return { userId: claims.userId, authorization: header };
  }
}
