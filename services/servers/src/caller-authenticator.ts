import { type AccessTokenVerifier, parseBearer } from "@beep/auth";
import { BeepError } from "@beep/errors";
import type { HandlerContext } from "@connectrpc/connect";
import type { Caller } from "./servers.service.ts";

/**
 * Who is calling: the access token forwarded in `authorization`, verified here against users' JWKS
 * (fetched through the users client, so it works in one process or split). No service trusts a user id
 * in a message. Session revocation is not checked here: a revoked session's access token keeps working
 * against servers until it expires (access tokens live minutes).
 */
export class CallerAuthenticator {
  constructor(private readonly verifier: AccessTokenVerifier) {}

  /** The caller, or UNAUTHENTICATED. */
  async authenticate(context: HandlerContext): Promise<Caller> {
    const token = parseBearer(context.requestHeader.get("authorization"));
    if (!token) throw new BeepError("UNAUTHENTICATED", "Authentication required");
    const claims = await this.verifier.verify(token);
    return { userId: claims.userId };
  }
}
