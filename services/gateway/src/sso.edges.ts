import type { BeepConfig } from "@beep/config";
import { BeepError } from "@beep/errors";
import type { Logger } from "@beep/observability";
import { SsoService } from "@beep/proto/gen/beep/users/v1/sso_pb.ts";
import type { ClientFactory, HttpRequest, HttpResponse } from "@beep/rpc";
import { clientIpResolver } from "./client-ip.ts";

/** Name of the cookie binding an OIDC flow to the browser that started it. */
export const OIDC_STATE_COOKIE = "beep_oidc_state";
const COOKIE_PATH = "/auth/oidc";
const COOKIE_MAX_AGE_S = 600;
const ROUTE = /^\/auth\/oidc\/([a-z0-9][a-z0-9_-]{0,31})\/(start|callback)$/;

/**
 * The browser edges of OIDC sign-in (AUTH-5), mounted under `/auth/oidc/`:
 *
 * - `GET /auth/oidc/:provider/start?redirect=/path` sets the HttpOnly,
 *   SameSite=Lax state cookie (Secure when the public URL is https) and
 *   302s to the provider.
 * - `GET /auth/oidc/:provider/callback` completes the flow and 302s to the
 *   same-origin path given at start, with `#accessToken=…&refreshToken=…`,
 *   `#linkToken=…` (an account with this email exists: link it with
 *   `linkOidcIdentity`), or `#error=<code>`. Tokens travel in the fragment so
 *   they never reach a server log or a Referer header.
 */
export function ssoEdges(options: { clients: ClientFactory; config: BeepConfig; logger: Logger }) {
  const { http } = options.config;
  const publicUrl = new URL(http.publicUrl || `http://${http.host}:${http.port}`);
  const secure = publicUrl.protocol === "https:";
  const sso = () => options.clients.client(SsoService);
  const clientIp = clientIpResolver(http.trustedProxies);

  const redirect = (res: HttpResponse, path: string, fragment: Record<string, string>, cookie?: string) => {
    const target = new URL(path, publicUrl);
    target.hash = new URLSearchParams(fragment).toString();
    const headers: Record<string, string | string[]> = {
      location: target.href,
      "cache-control": "no-store",
      "referrer-policy": "no-referrer",
    };
    if (cookie !== undefined) headers["set-cookie"] = cookie;
    res.writeHead(302, headers);
    res.end();
  };
  const stateCookie = (value: string, maxAge: number) =>
    `${OIDC_STATE_COOKIE}=${value}; Path=${COOKIE_PATH}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
  const errorCode = (error: unknown) => (error instanceof BeepError ? error.code.toLowerCase() : "internal");

  async function handle(req: HttpRequest, res: HttpResponse): Promise<void> {
    const url = new URL(req.url ?? "/", publicUrl);
    const match = ROUTE.exec(url.pathname);
    if (!match || req.method !== "GET") {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("Not found");
      return;
    }
    const [, provider = "", step] = match;
    const ip = clientIp(req as Parameters<typeof clientIp>[0]);
    const device = String(req.headers["user-agent"] ?? "");
    if (step === "start") {
      try {
        const begun = await sso().beginOidcSignIn({
          provider,
          redirectAfter: url.searchParams.get("redirect") ?? "",
        });
        res.writeHead(302, {
          location: begun.authorizationUrl,
          "set-cookie": stateCookie(begun.stateCookieValue, COOKIE_MAX_AGE_S),
          "cache-control": "no-store",
        });
        res.end();
      } catch (error) {
        redirect(res, "/", { error: errorCode(error) });
      }
      return;
    }
    const cookieValue = readCookie(String(req.headers.cookie ?? ""), OIDC_STATE_COOKIE);
    const cleared = stateCookie("", 0);
    try {
      const done = await sso().completeOidcSignIn({
        provider,
        callbackUrl: `${url.pathname}${url.search}`,
        stateCookieValue: cookieValue,
        device,
        ip,
      });
      const result = done.result;
      if (result.case === "session") {
        redirect(
          res,
          done.redirectAfter || "/",
          { accessToken: result.value.accessToken, refreshToken: result.value.refreshToken },
          cleared,
        );
      } else if (result.case === "linkToken") {
        redirect(res, done.redirectAfter || "/", { linkToken: result.value }, cleared);
      } else {
        redirect(res, "/", { error: "internal" }, cleared);
      }
    } catch (error) {
      if (!(error instanceof BeepError)) options.logger.error({ err: error }, "OIDC callback failed");
      redirect(res, "/", { error: errorCode(error) }, cleared);
    }
  }

  return (req: HttpRequest, res: HttpResponse): void => {
    handle(req, res).catch((error: unknown) => {
      options.logger.error({ err: error }, "OIDC edge failed");
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
}

function readCookie(header: string, name: string): string {
  for (const part of header.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return rest.join("=");
  }
  return "";
}
