import type { ErrorCode } from "@beep/errors";
import type { HttpRequest, HttpResponse } from "@beep/rpc";

// Helpers shared by the REST edges that take raw image uploads (profile and server pictures).

/** HTTP status of each BeepError code at a REST edge. */
export const EDGE_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  CONFLICT: 409,
  LIMIT_EXCEEDED: 413,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

/** Answers a JSON error body `{ error: { code, message, field? } }`. */
export function sendError(
  res: HttpResponse,
  status: number,
  code: string,
  message: string,
  field?: string,
): void {
  const body = JSON.stringify({ error: { code, message, ...(field ? { field } : {}) } });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Reads the request body up to `limit` bytes; resolves to undefined as soon as
 * the body (declared or actual) is larger, without reading the rest.
 */
export function readLimited(req: HttpRequest, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

/** How long and how much a refused upload may keep sending before the connection is cut. */
const LINGER_MS = 2_000;
const LINGER_MIN_BYTES = 1024 * 1024;

/**
 * Answers 413 at once, then discards (never buffers) what the client is still
 * sending for a bounded time and amount before cutting the connection.
 * Why (nginx's lingering close): cutting at once makes most clients report a
 * broken pipe instead of reading the 413.
 */
export function refuseTooLarge(req: HttpRequest, res: HttpResponse, kind: string, maxBytes: number): void {
  sendError(res, 413, "LIMIT_EXCEEDED", `${kind} must be at most ${maxBytes} bytes`, "data");
  let discarded = 0;
  const budget = Math.max(maxBytes, LINGER_MIN_BYTES);
  const timer = setTimeout(() => req.destroy(), LINGER_MS);
  timer.unref();
  const stop = () => clearTimeout(timer);
  req.on("data", (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > budget) {
      stop();
      req.destroy();
    }
  });
  req.once("end", stop);
  req.once("close", stop);
  req.resume();
}
