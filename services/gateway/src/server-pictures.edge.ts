import { parseBearer } from "@beep/auth";
import { BeepError } from "@beep/errors";
import type { Logger } from "@beep/observability";
import { ServerPicturesService } from "@beep/proto/gen/beep/servers/v1/server_pictures_pb.ts";
import type { ClientFactory, HttpRequest, HttpResponse } from "@beep/rpc";
import { EDGE_STATUS, readLimited, refuseTooLarge, sendError } from "./upload-edge.ts";

/** Path prefix of the server picture edge, mounted on the HTTP listener. */
export const SERVER_PICTURES_PATH_PREFIX = "/servers/";

/** The URL path of a server's picture or banner; `v` changes with each upload so caches never serve a stale one. */
export function serverPicturePath(serverId: string, kind: "picture" | "banner", version: string): string {
  return `/servers/${encodeURIComponent(serverId)}/${kind}?v=${encodeURIComponent(version)}`;
}

/** What the edge needs. */
export interface ServerPictureEdgeOptions {
  clients: ClientFactory;
  /** Verifies the bearer token (and its session) before any byte of an upload is read. */
  verifyToken: (token: string) => Promise<{ userId: string }>;
  /** Largest accepted body; reading stops past it and the answer is 413. */
  maxBytes: number;
  logger: Logger;
}

const ROUTE = /^\/servers\/(\d{1,19})\/(picture|banner)$/;

/**
 * REST edge for server images (SRV-1), where GraphQL does not fit (raw bytes):
 * `GET /servers/:serverId/picture|banner` streams the image to a member (anyone signed in, for a public
 * server); `PUT` uploads one from the raw body and `DELETE` removes it (MANAGE_GUILD). The bearer token
 * is forwarded, so `servers` authenticates the caller and checks the rights itself.
 */
export function createServerPictureEdge(options: ServerPictureEdgeOptions) {
  const pictures = options.clients.client(ServerPicturesService);

  return async function handle(req: HttpRequest, res: HttpResponse): Promise<void> {
    const path = (req.url ?? "").replace(/\?.*$/, "");
    const match = ROUTE.exec(path);
    if (!match) return sendError(res, 404, "NOT_FOUND", "No such resource");
    const serverId = match[1] as string;
    const kind = match[2] as "picture" | "banner";
    const authorization = req.headers.authorization;
    const call = { headers: { authorization: authorization ?? "" } };
    try {
      const token = parseBearer(authorization);
      if (!token) throw new BeepError("UNAUTHENTICATED", "Authorization must be 'Bearer <access token>'");
      await options.verifyToken(token);
      if (req.method === "GET" || req.method === "HEAD") {
        const picture = await pictures.getServerPicture({ serverId, kind }, call);
        res.writeHead(200, {
          "content-type": picture.contentType,
          "content-length": picture.data.length,
          // Why private: only signed-in users with access may read it; the URL carries the version.
          "cache-control": "private, max-age=86400",
          etag: `"${picture.version}"`,
          "x-content-type-options": "nosniff",
          "content-security-policy": "default-src 'none'; sandbox",
        });
        if (req.method === "HEAD") res.end();
        else res.end(Buffer.from(picture.data));
        return;
      }
      if (req.method === "PUT" || req.method === "DELETE") {
        let server: { id: string; pictureVersion: string; bannerVersion: string } | undefined;
        if (req.method === "PUT") {
          const body = await readLimited(req, options.maxBytes);
          if (!body) {
            refuseTooLarge(req, res, kind, options.maxBytes);
            return;
          }
          const contentType = String(req.headers["content-type"] ?? "");
          server = (await pictures.uploadServerPicture({ serverId, kind, data: body, contentType }, call))
            .server;
        } else {
          server = (await pictures.removeServerPicture({ serverId, kind }, call)).server;
        }
        const version = kind === "picture" ? server?.pictureVersion : server?.bannerVersion;
        const answer = JSON.stringify({ url: version ? serverPicturePath(serverId, kind, version) : null });
        res.writeHead(200, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(answer),
        });
        res.end(answer);
        return;
      }
      res.setHeader("allow", "GET, HEAD, PUT, DELETE");
      return sendError(res, 405, "BAD_USER_INPUT", "Method not allowed");
    } catch (error) {
      if (error instanceof BeepError) {
        return sendError(res, EDGE_STATUS[error.code] ?? 500, error.code, error.message, error.details.field);
      }
      options.logger.error({ err: error, request_url: path }, "server picture edge failed");
      return sendError(res, 500, "INTERNAL", "Internal error");
    }
  };
}
