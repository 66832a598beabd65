import { type AccessClaims, type AccessTokenVerifier, parseBearer } from "@beep/auth";
import { BeepError } from "@beep/errors";
import type { HandlerContext } from "@connectrpc/connect";

/**
 * Who is calling an RPC: the access token forwarded in the `authorization`
 * header, verified here with users' own keys. Every RPC that acts for a user
 * goes through this; none trusts a user id in a message.
 */
export class CallerAuthenticator {
  constructor(private readonly verifier: AccessTokenVerifier) {}

  /** The caller's claims, or UNAUTHENTICATED. */
  async authenticate(context: HandlerContext): Promise<AccessClaims> {
    const token = parseBearer(context.requestHeader.get("authorization"));
    if (!token) throw new BeepError("UNAUTHENTICATED", "Authentication required");
    return this.verifier.verify(token);
  }
}
