import { parseBearer } from "@beep/auth";
import type { BlobStore } from "@beep/blob";
import { BeepError } from "@beep/errors";
import type { Logger } from "@beep/observability";
import { AttachmentsService } from "@beep/proto/gen/beep/messages/v1/attachments_pb.ts";
import type { ClientFactory, HttpRequest, HttpResponse } from "@beep/rpc";
import { readLimited, refuseTooLarge, EDGE_STATUS as STATUS, sendError } from "./upload-edge.ts";

/** Path prefix of the attachment edge, mounted on the HTTP listener. */
export const ATTACHMENTS_PATH_PREFIX = "/attachments";

/** What the edge needs. */
export interface AttachmentEdgeOptions {
  clients: ClientFactory;
  /** Verifies the bearer token (and session liveness) before any byte of an upload is read. */
  verifyToken: (token: string) => Promise<{ userId: string }>;
  /** The blob store downloads stream from (messages decides which key a caller may read). */
  blobs: BlobStore;
  /** Largest accepted body (`messages.maxAttachmentBytes`); reading stops past it and the answer is 413. */
  maxBytes: number;
  logger: Logger;
}

const DOWNLOAD = /^\/attachments\/([^/]+)\/(?:(thumbnail)\/)?([^/]+)$/;
const INLINE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);

/** RFC 6266 Content-Disposition with an ASCII fallback and the UTF-8 name. */
function contentDisposition(kind: "inline" | "attachment", filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

function json(res: HttpResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/**
 * REST edge for message attachments (MSG-8), where GraphQL does not fit (raw bytes):
 * - `POST /attachments?channelId=…&filename=…` with the raw file as body: messages checks VIEW_CHANNEL +
 *   SEND_MESSAGES + ATTACH_FILES before a byte is read; past `maxBytes` the answer is 413 and nothing is
 *   stored. Answers 201 with the pending attachment.
 * - `GET /attachments/:id/:filename` and `GET /attachments/:id/thumbnail/:filename` stream the blob to
 *   callers messages allows (VIEW_CHANNEL + READ_MESSAGE_HISTORY of the message's channel); 404 otherwise.
 * Both forward the bearer token, so messages authenticates the caller itself.
 */
export function createAttachmentEdge(options: AttachmentEdgeOptions) {
  const attachments = options.clients.client(AttachmentsService);

  return async function handle(req: HttpRequest, res: HttpResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://edge");
    const path = url.pathname;
    const authorization = req.headers.authorization;
    const call = { headers: { authorization: authorization ?? "" } };
    try {
      const token = parseBearer(authorization);
      if (!token) throw new BeepError("UNAUTHENTICATED", "Authorization must be 'Bearer <access token>'");
      await options.verifyToken(token);
      if (req.method === "POST" && (path === "/attachments" || path === "/attachments/")) {
        const channelId = url.searchParams.get("channelId") ?? "";
        const filename = url.searchParams.get("filename") ?? String(req.headers["x-filename"] ?? "");
        if (filename === "") {
          throw new BeepError("BAD_USER_INPUT", "Name the file: ?filename=…", { field: "filename" });
        }
        // Permissions before the body: a caller who may not attach never gets to send 25 MiB.
        await attachments.checkAttachmentUpload({ channelId }, call);
        const body = await readLimited(req, options.maxBytes);
        if (!body) {
          refuseTooLarge(req, res, "An attachment", options.maxBytes);
          return;
        }
        const { attachment } = await attachments.uploadAttachment({ channelId, filename, data: body }, call);
        return json(res, 201, {
          id: attachment?.id,
          filename: attachment?.filename,
          contentType: attachment?.contentType,
          size: Number(attachment?.size ?? 0),
          width: attachment?.width || null,
          height: attachment?.height || null,
          url: attachment?.url,
          thumbnailUrl: attachment?.thumbnailUrl || null,
        });
      }
      const match = DOWNLOAD.exec(path);
      if (match && (req.method === "GET" || req.method === "HEAD")) {
        const attachmentId = decodeURIComponent(match[1] as string);
        const thumbnail = match[2] === "thumbnail";
        const opened = await attachments.openAttachment({ attachmentId, thumbnail }, call);
        const blob = await options.blobs.get(opened.blobKey);
        if (!blob) throw new BeepError("NOT_FOUND", "No such attachment");
        const inline = INLINE_TYPES.has(opened.contentType);
        res.writeHead(200, {
          "content-type": opened.contentType,
          "content-length": blob.info.size,
          "content-disposition": contentDisposition(inline ? "inline" : "attachment", opened.filename),
          // Why: only members may read it, and an attachment never changes under its id.
          "cache-control": "private, max-age=86400, immutable",
          "x-content-type-options": "nosniff",
          "content-security-policy": "default-src 'none'; sandbox",
          "cross-origin-resource-policy": "same-origin",
        });
        if (req.method === "HEAD") {
          blob.body.destroy();
          res.end();
          return;
        }
        blob.body.on("error", (error) => {
          options.logger.warn({ err: error, request_url: path }, "attachment stream failed");
          res.destroy(error);
        });
        blob.body.pipe(res);
        return;
      }
      if (match || path === "/attachments" || path === "/attachments/") {
        res.setHeader("allow", match ? "GET, HEAD" : "POST");
        return sendError(res, 405, "BAD_USER_INPUT", "Method not allowed");
      }
      return sendError(res, 404, "NOT_FOUND", "No such resource");
    } catch (error) {
      if (error instanceof BeepError) {
        return sendError(res, STATUS[error.code] ?? 500, error.code, error.message, error.details.field);
      }
      options.logger.error({ err: error, request_url: path }, "attachment edge failed");
      return sendError(res, 500, "INTERNAL", "Internal error");
    }
  };
}
