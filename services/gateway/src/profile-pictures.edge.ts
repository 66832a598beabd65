import { parseBearer } from "@beep/auth";
import { BeepError } from "@beep/errors";
import type { Logger } from "@beep/observability";
import { AccountService } from "@beep/proto/gen/beep/users/v1/account_pb.ts";
import type { ClientFactory, HttpRequest, HttpResponse } from "@beep/rpc";
import { readLimited, refuseTooLarge, EDGE_STATUS as STATUS, sendError } from "./upload-edge.ts";

/** Path prefix of the picture edge, mounted on the HTTP listener. */
export const PICTURES_PATH_PREFIX = "/users/";

/** The URL path of a user's picture or banner; `v` changes with each upload so caches never serve a stale one. */
export function picturePath(userId: string, kind: "picture" | "banner", version: string): string {
  return `/users/${encodeURIComponent(userId)}/${kind}?v=${encodeURIComponent(version)}`;
}

/** What the edge needs. */
export interface PictureEdgeOptions {
  clients: ClientFactory;
  /** Verifies the bearer token before any byte of an upload is read. */
  verifyToken: (token: string) => Promise<{ userId: string }>;
  /** Largest accepted body; reading stops past it and the answer is 413. */
  maxBytes: number;
  logger: Logger;
}

const ROUTE = /^\/users\/([^/]+)\/(picture|banner)$/;

/**
 * REST edge for profile images, where GraphQL does not fit (raw bytes):
 * `GET /users/:userId/picture|banner` streams a user's image to any signed-in
 * caller; `PUT /users/me/picture|banner` uploads the caller's own from the raw
 * body. Both forward the bearer token, so `users` authenticates the caller itself.
 */
export function createPictureEdge(options: PictureEdgeOptions) {
  const account = options.clients.client(AccountService);

  return async function handle(req: HttpRequest, res: HttpResponse): Promise<void> {
    const path = (req.url ?? "").replace(/\?.*$/, "");
    const match = ROUTE.exec(path);
    if (!match) return sendError(res, 404, "NOT_FOUND", "No such resource");
    const named = decodeURIComponent(match[1] as string);
    const kind = match[2] as "picture" | "banner";
    const authorization = req.headers.authorization;
    const call = { headers: { authorization: authorization ?? "" } };
    try {
      const token = parseBearer(authorization);
      if (!token) throw new BeepError("UNAUTHENTICATED", "Authorization must be 'Bearer <access token>'");
      const viewer = await options.verifyToken(token);
      const userId = named === "me" ? viewer.userId : named;
      if (req.method === "GET" || req.method === "HEAD") {
        const picture = await account.getPicture({ userId, kind }, call);
        res.writeHead(200, {
          "content-type": picture.contentType,
          "content-length": picture.data.length,
          // Why private: only signed-in users may read it; the URL carries the version, so it may be kept.
          "cache-control": "private, max-age=86400",
          etag: `"${picture.version}"`,
          "x-content-type-options": "nosniff",
          "content-security-policy": "default-src 'none'; sandbox",
        });
        if (req.method === "HEAD") res.end();
        else res.end(Buffer.from(picture.data));
        return;
      }
      if (req.method === "PUT" && named === "me") {
        const body = await readLimited(req, options.maxBytes);
        if (!body) {
          refuseTooLarge(req, res, kind, options.maxBytes);
          return;
        }
        const contentType = String(req.headers["content-type"] ?? "");
        const profile = await account.uploadPicture({ kind, data: body, contentType }, call);
        const version = kind === "picture" ? profile.extras?.pictureVersion : profile.extras?.bannerVersion;
        const answer = JSON.stringify({ url: picturePath(profile.user?.id ?? "", kind, version ?? "") });
        res.writeHead(200, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(answer),
        });
        res.end(answer);
        return;
      }
      res.setHeader("allow", named === "me" ? "GET, HEAD, PUT" : "GET, HEAD");
      return sendError(res, 405, "BAD_USER_INPUT", "Method not allowed");
    } catch (error) {
      if (error instanceof BeepError) {
        return sendError(res, STATUS[error.code] ?? 500, error.code, error.message, error.details.field);
      }
      options.logger.error({ err: error, request_url: path }, "picture edge failed");
      return sendError(res, 500, "INTERNAL", "Internal error");
    }
  };
}
