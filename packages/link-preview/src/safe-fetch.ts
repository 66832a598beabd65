import { lookup as dnsLookup } from "node:dns/promises";
import http, { type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import type { Readable } from "node:stream";
import zlib from "node:zlib";
import { type AddressVerdict, addressFamily, classifyAddress, isIpLiteral } from "./ip-policy.ts";

/** Stable reasons a {@link safeFetch} refuses or gives up; callers branch on `code`, never on the message. */
export type SafeFetchErrorCode =
  | "INVALID_URL"
  | "BLOCKED_PROTOCOL"
  | "BLOCKED_PORT"
  | "CREDENTIALS_IN_URL"
  | "BLOCKED_ADDRESS"
  | "DNS_FAILED"
  | "TOO_MANY_REDIRECTS"
  | "TIMEOUT"
  | "BODY_TOO_LARGE"
  | "UNSUPPORTED_CONTENT_TYPE"
  | "HTTP_STATUS"
  | "NETWORK";

/** Why an outbound fetch was refused or failed. */
export class SafeFetchError extends Error {
  override readonly name = "SafeFetchError";
  constructor(
    readonly code: SafeFetchErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Resolves a host name to every IP address it has; all of them must be public for the fetch to go on. */
export type HostResolver = (hostname: string) => readonly string[] | Promise<readonly string[]>;

/** Options of {@link safeFetch}; every limit has a safe default. */
export interface SafeFetchOptions {
  /** Whole-fetch time limit (DNS, every redirect, headers and body), in ms. Default 5000. */
  timeoutMs?: number;
  /** Largest body read, in bytes (after decompression). Default 1 MiB. */
  maxBytes?: number;
  /**
   * When the body is larger than `maxBytes`: false (default) fails with BODY_TOO_LARGE; true keeps the first
   * `maxBytes` bytes, closes the connection and reports `truncated: true` (HTML previews only need the head).
   */
  truncate?: boolean;
  /** Redirects followed, each checked like the first URL. Default 5. */
  maxRedirects?: number;
  /** Destination ports allowed. Default [80, 443]. */
  allowedPorts?: readonly number[];
  /** Media types accepted (`text/html`, `application/json`…); others fail with UNSUPPORTED_CONTENT_TYPE. Default: any. */
  acceptContentTypes?: readonly string[];
  /** Sent as `Accept`. Default `*\/*`. */
  accept?: string;
  /** Sent as `User-Agent`. */
  userAgent?: string;
  /** Replaces the system resolver (tests inject fixed answers). Default: dns.lookup with all addresses. */
  resolve?: HostResolver;
  /**
   * TEST-ONLY. Exact IP addresses (e.g. `["127.0.0.1"]`) that may be connected to although they are not
   * public, so tests can run real servers on loopback. Every other address, including other loopback
   * addresses and every redirect target, is still checked. Never set this in production configuration.
   */
  allowPrivateAddressesForTests?: readonly string[];
}

/** A successful (2xx) response, after redirects. */
export interface SafeFetchResponse {
  /** The URL that answered, after redirects. */
  url: string;
  status: number;
  headers: IncomingHttpHeaders;
  /** Media type without parameters, lower-case ("" when absent). */
  contentType: string;
  /** `charset` parameter of Content-Type, lower-case, when given. */
  charset: string | undefined;
  body: Buffer;
  /** True when the body was cut at `maxBytes` (only with `truncate: true`). */
  truncated: boolean;
}

const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_BYTES = 1024 * 1024;
const DEFAULT_MAX_REDIRECTS = 5;
const DEFAULT_PORTS: readonly number[] = [80, 443];
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

interface PinnedAddress {
  address: string;
  family: 4 | 6;
}

interface CheckedTarget {
  url: URL;
  /** The addresses the socket may use: all checked, then pinned so no second lookup can change them. */
  addresses: readonly PinnedAddress[];
}

async function defaultResolve(hostname: string): Promise<readonly string[]> {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => answer.address);
}

function parseUrl(raw: string | URL, base?: URL): URL {
  try {
    return new URL(raw, base);
  } catch (cause) {
    throw new SafeFetchError("INVALID_URL", `not a URL: ${String(raw).slice(0, 200)}`, { cause });
  }
}

function effectivePort(url: URL): number {
  if (url.port !== "") return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
}

function isAllowed(address: string, verdict: AddressVerdict, testAddresses: readonly string[]): boolean {
  return verdict === "public" || testAddresses.includes(address);
}

/** Checks scheme, credentials and port, resolves the host and requires every address to be allowed. */
async function checkTarget(url: URL, options: SafeFetchOptions, signal: AbortSignal): Promise<CheckedTarget> {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new SafeFetchError("BLOCKED_PROTOCOL", `protocol ${url.protocol} is not allowed`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new SafeFetchError("CREDENTIALS_IN_URL", "URLs with credentials are not fetched");
  }
  const port = effectivePort(url);
  if (!(options.allowedPorts ?? DEFAULT_PORTS).includes(port)) {
    throw new SafeFetchError("BLOCKED_PORT", `port ${port} is not allowed`);
  }
  const testAddresses = options.allowPrivateAddressesForTests ?? [];
  // URL has already canonicalised numeric hosts (0x7f.1, 2130706433 → 127.0.0.1; [::ffff:127.0.0.1] →
  // [::ffff:7f00:1]), so an IP host is checked as the address it really is.
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  let addresses: readonly string[];
  if (isIpLiteral(host)) {
    addresses = [host];
  } else {
    try {
      addresses = await abortable((options.resolve ?? defaultResolve)(host), signal);
    } catch (cause) {
      if (cause instanceof SafeFetchError) throw cause;
      throw new SafeFetchError("DNS_FAILED", `cannot resolve ${host}`, { cause });
    }
    if (addresses.length === 0) throw new SafeFetchError("DNS_FAILED", `${host} has no address`);
  }
  for (const address of addresses) {
    const verdict = classifyAddress(address);
    if (!isAllowed(address, verdict, testAddresses)) {
      // One bad answer is enough: a name with a mix of public and private addresses is a rebinding attempt.
      throw new SafeFetchError("BLOCKED_ADDRESS", `${host} resolves to a non-public address (${verdict})`);
    }
  }
  return { url, addresses: addresses.map((address) => ({ address, family: addressFamily(address) })) };
}

function abortable<T>(work: T | Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    Promise.resolve(work).then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** A `lookup` for net/tls that answers with the pre-checked addresses only: the connection cannot re-resolve. */
function pinnedLookup(target: CheckedTarget): LookupFunction {
  return (hostname, lookupOptions, callback) => {
    const wanted =
      lookupOptions.family === 4 || lookupOptions.family === 6 ? lookupOptions.family : undefined;
    const usable = target.addresses.filter((pinned) => wanted === undefined || pinned.family === wanted);
    const first = usable[0];
    if (!first) {
      const error: NodeJS.ErrnoException = new Error(`no IPv${wanted} address checked for ${hostname}`);
      error.code = "ENOTFOUND";
      return callback(error, "", 0);
    }
    // Node 20 asks for `all: true` when autoSelectFamily (happy eyeballs) is on: every answer is checked,
    // so it may try each of them.
    if (lookupOptions.all)
      callback(
        null,
        usable.map((pinned) => ({ ...pinned })),
      );
    else callback(null, first.address, first.family);
  };
}

function request(
  target: CheckedTarget,
  options: SafeFetchOptions,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const { url } = target;
  const transport = url.protocol === "https:" ? https : http;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = transport.request(
      url,
      {
        method: "GET",
        // A fresh connection per request: a pooled socket could belong to another (differently pinned) host.
        agent: false,
        lookup: pinnedLookup(target),
        signal,
        headers: {
          // The Host header (and, for https, SNI and certificate checks) keep the original name; only the
          // address the socket connects to is pinned.
          accept: options.accept ?? "*/*",
          "accept-encoding": "gzip, deflate, br",
          ...(options.userAgent ? { "user-agent": options.userAgent } : {}),
        },
      },
      resolve,
    );
    req.on("error", reject);
    req.end();
  });
}

function decodedBody(response: IncomingMessage): Readable {
  const encoding = String(response.headers["content-encoding"] ?? "identity")
    .trim()
    .toLowerCase();
  if (encoding === "gzip" || encoding === "x-gzip") return response.pipe(zlib.createGunzip());
  if (encoding === "deflate") return response.pipe(zlib.createInflate());
  if (encoding === "br") return response.pipe(zlib.createBrotliDecompress());
  return response;
}

async function readBody(
  response: IncomingMessage,
  maxBytes: number,
  truncate: boolean,
): Promise<{ body: Buffer; truncated: boolean }> {
  const declared = Number(response.headers["content-length"]);
  if (!truncate && Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    throw new SafeFetchError(
      "BODY_TOO_LARGE",
      `body of ${declared} bytes is over the ${maxBytes} byte limit`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  // Counting decoded bytes bounds memory even for a compression bomb.
  const stream = decodedBody(response);
  try {
    for await (const chunk of stream) {
      const buffer = chunk as Buffer;
      if (size + buffer.length > maxBytes) {
        if (!truncate) {
          throw new SafeFetchError("BODY_TOO_LARGE", `body is over the ${maxBytes} byte limit`);
        }
        chunks.push(buffer.subarray(0, maxBytes - size));
        return { body: Buffer.concat(chunks), truncated: true };
      }
      chunks.push(buffer);
      size += buffer.length;
    }
  } finally {
    // Stops the download at once when we leave early (limit reached, error); a no-op after a full read.
    response.destroy();
    stream.destroy();
  }
  return { body: Buffer.concat(chunks), truncated: false };
}

function parseContentType(header: string | undefined): { contentType: string; charset: string | undefined } {
  const [type = "", ...params] = (header ?? "").split(";");
  let charset: string | undefined;
  for (const param of params) {
    const [key, value] = param.split("=");
    if (key?.trim().toLowerCase() === "charset" && value) {
      charset = value.trim().replace(/^"|"$/g, "").toLowerCase();
    }
  }
  return { contentType: type.trim().toLowerCase(), charset };
}

/**
 * GET a URL from the public internet without letting the caller reach internal services (SSRF):
 * only http/https on allowed ports, no credentials, every address the host resolves to must be public
 * and the connection goes to that checked address (no second DNS lookup, so no rebinding), every
 * redirect is checked the same way, and time and size are bounded. No cookies are sent or kept.
 * Fails with {@link SafeFetchError}; non-2xx final responses fail with HTTP_STATUS.
 */
export async function safeFetch(
  rawUrl: string | URL,
  options: SafeFetchOptions = {},
): Promise<SafeFetchResponse> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const controller = new AbortController();
  const timeoutError = new SafeFetchError("TIMEOUT", `fetch took longer than ${timeoutMs} ms`);
  const timer = setTimeout(() => controller.abort(timeoutError), timeoutMs);
  const { signal } = controller;
  try {
    let url = parseUrl(rawUrl);
    for (let redirects = 0; ; redirects++) {
      const target = await checkTarget(url, options, signal);
      let response: IncomingMessage;
      try {
        response = await request(target, options, signal);
      } catch (cause) {
        if (signal.aborted) throw timeoutError;
        throw new SafeFetchError("NETWORK", `GET ${url.origin} failed`, { cause });
      }
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (REDIRECT_STATUSES.has(status) && location) {
        response.destroy();
        if (redirects >= maxRedirects) {
          throw new SafeFetchError("TOO_MANY_REDIRECTS", `more than ${maxRedirects} redirects`);
        }
        url = parseUrl(location, url);
        continue;
      }
      if (status < 200 || status > 299) {
        response.destroy();
        throw new SafeFetchError("HTTP_STATUS", `GET ${url.origin} answered ${status}`);
      }
      const { contentType, charset } = parseContentType(response.headers["content-type"]);
      if (options.acceptContentTypes && !options.acceptContentTypes.includes(contentType)) {
        response.destroy();
        throw new SafeFetchError("UNSUPPORTED_CONTENT_TYPE", `content type "${contentType}" is not accepted`);
      }
      let body: { body: Buffer; truncated: boolean };
      try {
        body = await readBody(response, options.maxBytes ?? DEFAULT_MAX_BYTES, options.truncate ?? false);
      } catch (cause) {
        if (cause instanceof SafeFetchError) throw cause;
        if (signal.aborted) throw timeoutError;
        throw new SafeFetchError("NETWORK", `reading ${url.origin} failed`, { cause });
      }
      return { url: url.href, status, headers: response.headers, contentType, charset, ...body };
    }
  } catch (error) {
    if (signal.aborted && !(error instanceof SafeFetchError && error.code !== "NETWORK")) throw timeoutError;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
