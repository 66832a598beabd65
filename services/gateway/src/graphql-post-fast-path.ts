import type { IncomingMessage, ServerResponse } from "node:http";
import type { ExecutionResult } from "graphql";
import { type GraphQLParams, processRegularResult, type YogaServerInstance } from "graphql-yoga";

/**
 * Serves the common GraphQL-over-HTTP request — POST /graphql, a JSON object body pre-read by
 * graphql-body.ts, an `accept` yoga answers with one JSON response, a query or mutation — without yoga's
 * fetch-API layer, with the bytes yoga would send.
 *
 * Why: per request, yoga wraps the Node request in fetch `Request`/`Headers` objects with an abort signal,
 * negotiates content types through them, builds a fetch `Response` and copies it back onto Node's response
 * (about a tenth of the gateway's CPU at a thousand sends a second). Only that layer is skipped: the
 * GraphQL work still runs through yoga's own `getResultForParams` — its params check, then the envelop
 * pipeline of every plugin (parse cache, armor limits, validation cache, the context function, masked
 * errors) — and the response status and body come from yoga's own `processRegularResult`. What stays
 * copied here is yoga's accept negotiation for the JSON media types and its default CORS headers; the
 * differential test in graphql-post-fast-path.test.ts holds them to yoga's bytes.
 *
 * Anything else (GET, other content types or accepts, batches, `extensions`, subscriptions, CORS
 * preflight and request headers, other paths) is left to yoga: `serve` returns false before anything ran.
 */
export function createGraphqlPostFastPath<
  TServerContext extends { req: IncomingMessage },
  TUserContext extends object,
>(yoga: YogaServerInstance<TServerContext, TUserContext>): GraphqlPostFastPath {
  // Fetched once: each read of a yoga property through its server adapter's proxy makes a new wrapper.
  const getResultForParams = yoga.getResultForParams;

  return {
    async serve(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<boolean> {
      if (req.url !== "/graphql") return false;
      const params = fastPathParams(body);
      if (!params) return false;
      const mediaType = singleJsonMediaType(req.headers.accept);
      if (!mediaType) return false;
      const { origin } = req.headers;
      if (
        origin !== undefined &&
        (req.headers["access-control-request-method"] !== undefined ||
          req.headers["access-control-request-headers"] !== undefined)
      )
        return false;

      let result: Awaited<ReturnType<typeof getResultForParams>>;
      try {
        result = await getResultForParams({ params, request: requestView(req) }, { req } as TServerContext);
      } catch {
        // Only yoga's params check throws here, before anything ran (the pipeline turns its own errors into
        // results): yoga answers it.
        return false;
      }
      if (result === undefined || Symbol.asyncIterator in result) {
        // Unreachable: no subscription comes here and yoga has no incremental delivery (@defer, @stream)
        // enabled. Should it happen, yoga runs the request again and answers with its stream or a 406,
        // which beats a wrong answer here.
        if (result !== undefined) void (result as AsyncIterableIterator<unknown>).return?.();
        return false;
      }
      writeResult(res, result, mediaType, origin);
      return true;
    },
  };
}

/** The fast path of one yoga instance. */
export interface GraphqlPostFastPath {
  /**
   * Answers `req` on `res` when it is a request of the fast path, else returns false having done nothing.
   * `body` is what preReadJsonBody read.
   */
  serve(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<boolean>;
}

const PARAM_NAMES = new Set(["query", "variables", "operationName"]);

/**
 * The body as yoga's GraphQL params when it is a fast-path request: a string `query` outside any
 * subscription, `variables` an object or null, `operationName` a string or null, and nothing else.
 */
export function fastPathParams(body: unknown): GraphQLParams | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const params = body as Record<string, unknown>;
  for (const key in params) if (!PARAM_NAMES.has(key)) return undefined;
  const { query, variables, operationName } = params;
  // A subscription's document spells the keyword; a field or string of that name only costs the fast path.
  if (typeof query !== "string" || query.includes("subscription")) return undefined;
  if (
    variables !== undefined &&
    variables !== null &&
    (typeof variables !== "object" || Array.isArray(variables))
  )
    return undefined;
  if (operationName !== undefined && operationName !== null && typeof operationName !== "string")
    return undefined;
  return params as GraphQLParams;
}

/**
 * The media type yoga answers a query or mutation with for this `accept`, when it is one of its single
 * JSON responses; undefined when yoga would stream (event stream, multipart) or refuse (406).
 *
 * yoga's useResultProcessors tries its processors in the order event stream, multipart, JSON; within
 * each, the accepted types from last to first, and within JSON `application/graphql-response+json` then
 * `application/json`; the last match wins. So JSON wins whenever any accepted type (utf-8 or no charset)
 * matches a JSON type, the first such in the header decides, and a wildcard gives `application/json`.
 */
export function singleJsonMediaType(accept: string | undefined): string | undefined {
  if (accept === undefined || accept === "" || accept === "*/*") return "application/json";
  for (const entry of accept.replace(/\s/g, "").toLowerCase().split(",")) {
    const [mediaType = "", ...parameters] = entry.split(";");
    const charset = parameters.find((parameter) => parameter.includes("charset=")) ?? "charset=utf-8";
    if (charset !== "charset=utf-8") continue;
    const [type, subtype] = mediaType.split("/");
    if (type !== "*" && type !== "application") continue;
    if (subtype === "*" || subtype === "json") return "application/json";
    if (subtype === "graphql-response+json") return "application/graphql-response+json";
  }
  return undefined;
}

/** What of the request yoga's plugins may read through the context's `request` (only its method, today). */
function requestView(req: IncomingMessage): Request {
  return {
    method: "POST",
    url: req.url,
    headers: {
      get: (name: string) => {
        const value = req.headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
      },
    },
  } as unknown as Request;
}

/** Captures what processRegularResult would hand to a fetch `Response`, for writing to Node's response. */
class CapturedResponse {
  constructor(
    readonly body: string,
    readonly init: { status: number; headers: Record<string, string> },
  ) {}
}
const capturingFetchApi = { Response: CapturedResponse } as unknown as Parameters<
  typeof processRegularResult
>[1];

/**
 * Writes the result as yoga does: status, body and headers from processRegularResult, then whatwg-node's
 * content-length, then the headers of yoga's default CORS policy (any origin, with credentials), in
 * yoga's order and spelling.
 */
function writeResult(
  res: ServerResponse,
  result: ExecutionResult,
  mediaType: string,
  origin: string | undefined,
): void {
  // What whatwg-node does for a response whose client has gone: nothing.
  if (res.closed || res.destroyed || res.writableEnded) return;
  const { body, init } = processRegularResult(
    result,
    capturingFetchApi,
    mediaType,
  ) as unknown as CapturedResponse;
  const headers: Record<string, string> = {
    ...init.headers,
    "content-length": String(Buffer.byteLength(body)),
  };
  if (origin !== undefined) {
    headers["access-control-allow-origin"] = origin;
    headers.vary = "Origin";
    // whatwg-node's useCORS grants credentials to any origin but a literal "*".
    if (origin !== "*") headers["access-control-allow-credentials"] = "true";
  }
  res.writeHead(init.status, headers);
  res.end(body);
}
