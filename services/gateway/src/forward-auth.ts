import { type AccessTokenVerifier, parseBearer } from "@beep/auth";
import { BeepError } from "@beep/errors";
import type { Logger } from "@beep/observability";
import type { HttpRequest, HttpResponse } from "@beep/rpc";

/** Path of the forward-auth endpoint (AUTH-10). */
export const FORWARD_AUTH_PATH = "/auth/verify";

/** Options of {@link createForwardAuthHandler}. */
export interface ForwardAuthOptions {
  /** Local check: signature, issuer, audience, expiry. */
  verifier: AccessTokenVerifier;
  /** Asks users whether the token's session is still live; rejects with UNAUTHENTICATED when not. */
  checkSession: (accessToken: string) => Promise<{ userId: string; sessionId: string }>;
  logger: Logger;
}

function header(req: HttpRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * `GET /auth/verify` for reverse proxies (Traefik forwardAuth, nginx auth_request, Envoy ext_authz):
 * 200 with `X-User-Claim: {"userId":…,"sessionId":…}` for a valid bearer token of a live session, else
 * 401 with a JSON `{ code: "UNAUTHENTICATED" }` body. The body never carries the token or a secret.
 * `X-Forwarded-Method`/`X-Forwarded-Uri` only feed the log line (path only: a query may hold secrets).
 * The listener deletes any client-sent `X-User-Claim` before this runs (rpc/edge-only-headers.ts).
 */
export function createForwardAuthHandler(options: ForwardAuthOptions) {
  const { verifier, checkSession, logger } = options;
  return async (req: HttpRequest, res: HttpResponse): Promise<void> => {
    const forwarded = {
      forwarded_method: header(req, "x-forwarded-method")?.slice(0, 16),
      forwarded_uri: header(req, "x-forwarded-uri")?.split("?")[0]?.slice(0, 512),
    };
    res.setHeader("cache-control", "no-store");
    const path = (req.url ?? "").split("?")[0];
    if (path !== FORWARD_AUTH_PATH) {
      res.statusCode = 404;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ code: "NOT_FOUND", message: "Not found" }));
      return;
    }
    try {
      const token = parseBearer(header(req, "authorization"));
      if (!token) throw new BeepError("UNAUTHENTICATED", "Authentication required");
      const claims = await verifier.verify(token);
      const live = await checkSession(token);
      if (live.userId !== claims.userId || live.sessionId !== claims.sessionId) {
        throw new BeepError("UNAUTHENTICATED", "Session ended");
      }
      res.statusCode = 200;
      res.setHeader("x-user-claim", JSON.stringify({ userId: claims.userId, sessionId: claims.sessionId }));
      res.end();
      logger.info({ ...forwarded, user_id: claims.userId, outcome: "allowed" }, "forward-auth");
    } catch (error) {
      const unauthenticated = error instanceof BeepError && error.code === "UNAUTHENTICATED";
      if (!unauthenticated) logger.error({ err: error, ...forwarded }, "forward-auth check failed");
      else logger.info({ ...forwarded, outcome: "denied" }, "forward-auth");
      // Why 503 and not 401 when users cannot answer: a proxy must not treat an outage as "signed out".
      res.statusCode = unauthenticated ? 401 : 503;
      res.setHeader("content-type", "application/json");
      if (unauthenticated) res.setHeader("www-authenticate", 'Bearer realm="beep"');
      res.end(
        JSON.stringify(
          unauthenticated
            ? { code: "UNAUTHENTICATED", message: "Authentication required" }
            : { code: "UNAVAILABLE", message: "Try again later" },
        ),
      );
    }
  };
}
