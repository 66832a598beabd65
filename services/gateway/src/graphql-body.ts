import type { IncomingMessage } from "node:http";

/** Largest GraphQL request body over HTTP: yoga's `maxRequestBodySize` (its default, 25 MB), set explicitly. */
export const MAX_GRAPHQL_BODY_BYTES = 25_000_000;

const JSON_CONTENT_TYPES = ["application/json", "application/graphql+json"];

/** yoga's `isPOSTJsonRequest` test on the first listed content type. */
function isJsonContentType(value: string | undefined): boolean {
  const first = value?.split(",")[0];
  if (!first) return false;
  return JSON_CONTENT_TYPES.some((type) => first === type || first.startsWith(`${type};`));
}

/**
 * Reads a JSON POST body before yoga sees the request, when its size is declared and within the limit,
 * for the caller to set as `req.body`; undefined when the request is left for yoga to read. Rejects when
 * the request stream fails (the client went away).
 *
 * Why: yoga reads a Node body through a fetch `Request`, and wraps it in a byte-counting TransformStream
 * (a stream pipeline, abort controller and DOMException per request) to enforce `maxRequestBodySize`. A
 * body with a valid Content-Length cannot outgrow it (Node's parser frames the body by it and refuses a
 * request that also says chunked), so yoga's check of the header alone is enough; whatwg-node then takes
 * the pre-read body as is. What yoga would do with the body stays the same: a non-empty object or array
 * is handed over parsed, anything else (invalid JSON, null, a scalar) as its text, which yoga parses
 * again and refuses with its usual error.
 */
export function preReadJsonBody(req: IncomingMessage): Promise<unknown> | undefined {
  if (req.method !== "POST" || !isJsonContentType(req.headers["content-type"])) return undefined;
  const declared = req.headers["content-length"];
  if (declared === undefined || !/^\d+$/.test(declared)) return undefined;
  const length = Number(declared);
  if (length === 0 || length > MAX_GRAPHQL_BODY_BYTES) return undefined;
  return new Promise<unknown>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("error", reject);
    req.once("end", () => {
      const text =
        chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks).toString("utf8");
      resolve(parsedOrText(text));
    });
  });
}

function parsedOrText(text: string): unknown {
  try {
    const parsed: unknown = JSON.parse(text);
    // whatwg-node uses a pre-read body only when it is non-null with at least one key.
    if (typeof parsed === "object" && parsed !== null && Object.keys(parsed).length > 0) return parsed;
  } catch {
    // yoga reports invalid JSON itself when it parses the text again.
  }
  return text;
}
