import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import {
  createServer as createHttp2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from "node:http2";
import { type AddressInfo, createServer as createNetServer, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "@beep/observability";
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from "@opentelemetry/api";
import { stripEdgeOnlyHeaders } from "./edge-only-headers.ts";

/** A request on either protocol (HTTP/1.1 or HTTP/2); connect-node, graphql-yoga and ws accept both. */
export type HttpRequest = IncomingMessage | Http2ServerRequest;

/** The response paired with {@link HttpRequest}. */
export type HttpResponse = ServerResponse | Http2ServerResponse;

/** Serves requests under one path prefix; if it returns a promise, a rejection becomes a logged 500. */
export type RouteHandler = (req: HttpRequest, res: HttpResponse) => void;

/** Takes over an HTTP/1.1 `Upgrade` request (WebSockets); owns `socket` from then on. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** What {@link HttpListenerOptions.onRequestDone} receives once per finished request (metrics). */
export interface RequestDone {
  /** HTTP method. */
  method: string;
  /** The matched route prefix (bounded cardinality), or `"unmatched"`. */
  route: string;
  /** Response status code (for an aborted request: the status set so far). */
  status: number;
  /** Time from request to response end, in milliseconds. */
  durationMs: number;
}

/** Options for {@link createHttpListener}. */
export interface HttpListenerOptions {
  /** Interface to bind, e.g. `0.0.0.0` or `127.0.0.1`. */
  host: string;
  /** TCP port; 0 picks a free one (see the URL returned by `listen`). */
  port: number;
  /** Access-log and error destination. */
  logger: Logger;
  /** Called once per finished request, after the access-log line. */
  onRequestDone?: (done: RequestDone) => void;
  /** Abandon a connection that has not sent enough bytes to tell HTTP/1.1 from HTTP/2 by then (default 10 s). */
  sniffTimeoutMs?: number;
}

/** One TCP port serving HTTP/1.1 (+ upgrades) and cleartext HTTP/2 (prior knowledge), see {@link createHttpListener}. */
export interface HttpListener {
  /** Serve every request whose path starts with `prefix`; the longest matching prefix wins. */
  route(prefix: string, handler: RouteHandler): void;
  /** Hand HTTP/1.1 `Upgrade` requests for exactly `path` (query ignored) to `handler`. */
  upgrade(path: string, handler: UpgradeHandler): void;
  /** Start accepting connections; resolves with the real URL (port 0 is replaced by the bound port). */
  listen(): Promise<{ url: string }>;
  /**
   * Stop accepting, let in-flight requests finish for up to `graceMs`, then destroy
   * whatever is left (including upgraded sockets their owners did not close).
   */
  close(graceMs: number): Promise<void>;
}

// Every HTTP/2 client sends this connection preface first (RFC 9113 §3.4); no HTTP/1.x request starts with it.
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

const tracer = trace.getTracer("beep-http");

// Node lower-cases incoming header names; multi-valued headers arrive as arrays.
const incomingHeaderGetter: TextMapGetter<HttpRequest["headers"]> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key.toLowerCase()],
};

const NOT_FOUND_BODY = JSON.stringify({ code: "NOT_FOUND", message: "Not found" });
const INTERNAL_BODY = JSON.stringify({ code: "INTERNAL", message: "Internal error" });

interface H1Connection {
  /** Requests whose response has not closed yet. */
  active: number;
}

/**
 * Creates the process's single HTTP listener. Each new connection is sniffed: the HTTP/2
 * preface sends it to an `http2.Server` (gRPC over h2c), anything else to an `http.Server`
 * (GraphQL, health, metrics, WebSocket upgrades). Both dispatch through the same routes.
 */
export function createHttpListener(options: HttpListenerOptions): HttpListener {
  const { logger } = options;
  const sniffTimeoutMs = options.sniffTimeoutMs ?? 10_000;
  const routes: { prefix: string; handler: RouteHandler }[] = [];
  const upgrades = new Map<string, UpgradeHandler>();

  const sniffing = new Set<Socket>();
  const h1Connections = new Map<Socket, H1Connection>();
  const h2Sessions = new Set<Http2Session>();
  const upgraded = new Set<Duplex>();
  let closing = false;
  let closed: Promise<void> | undefined;

  const h1 = createHttpServer();
  const h2 = createHttp2Server();
  // Why: neither server ever listens; the net server below accepts and hands sockets over.
  const acceptor = createNetServer((socket) => sniff(socket));

  function sniff(socket: Socket): void {
    if (closing) {
      socket.destroy();
      return;
    }
    sniffing.add(socket);
    let buffered: Buffer = Buffer.alloc(0);
    const onError = (error: Error) => logger.debug({ err: error }, "connection error before first request");
    const onClose = () => sniffing.delete(socket);
    const onTimeout = () => socket.destroy();
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const compared = Math.min(buffered.length, H2_PREFACE.length);
      const isPrefacePrefix = buffered.subarray(0, compared).equals(H2_PREFACE.subarray(0, compared));
      if (isPrefacePrefix && buffered.length < H2_PREFACE.length) return; // need more bytes to decide
      socket.off("data", onData);
      socket.off("error", onError);
      socket.off("close", onClose);
      socket.off("timeout", onTimeout);
      socket.setTimeout(0);
      sniffing.delete(socket);
      socket.pause();
      socket.unshift(buffered);
      if (isPrefacePrefix) h2.emit("connection", socket);
      else {
        h1Connections.set(socket, { active: 0 });
        socket.once("close", () => h1Connections.delete(socket));
        h1.emit("connection", socket);
      }
      // Why: resume on the next tick, once the server has attached its own readers to the socket.
      process.nextTick(() => socket.resume());
    };
    socket.on("data", onData);
    socket.on("error", onError);
    socket.on("close", onClose);
    socket.on("timeout", onTimeout);
    socket.setTimeout(sniffTimeoutMs);
  }

  function findRoute(path: string): { prefix: string; handler: RouteHandler } | undefined {
    let best: { prefix: string; handler: RouteHandler } | undefined;
    for (const candidate of routes) {
      if (path.startsWith(candidate.prefix) && (!best || candidate.prefix.length > best.prefix.length)) {
        best = candidate;
      }
    }
    return best;
  }

  function dispatch(req: HttpRequest, res: HttpResponse): void {
    const started = performance.now();
    stripEdgeOnlyHeaders(req.headers);
    const method = req.method ?? "GET";
    const path = pathOf(req.url);
    const match = findRoute(path);
    // Why: one server span per request, continuing the caller's W3C trace, so every log line and
    // RPC made while handling it carries the same trace id across processes.
    const parent = propagation.extract(context.active(), req.headers, incomingHeaderGetter);
    const span = tracer.startSpan(
      `${method} ${match?.prefix ?? "unmatched"}`,
      { kind: SpanKind.SERVER, attributes: { "http.request.method": method, "url.path": path } },
      parent,
    );
    const traceId = span.spanContext().traceId;
    let done = false;
    let finished = false;
    res.once("finish", () => {
      finished = true;
    });
    res.once("close", () => {
      if (done) return;
      done = true;
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      const status = res.statusCode;
      const aborted = !finished;
      // Why: the query string may carry tokens (e.g. WebSocket auth), so only the path is logged.
      if (logger.isLevelEnabled("info")) {
        logger.info(
          {
            request_method: method,
            request_url: path,
            response_status: status,
            response_time: durationMs,
            protocol: req.httpVersion === "2.0" ? "h2c" : "http/1.1",
            trace_id: traceId,
            ...(aborted ? { aborted: true } : {}),
          },
          "request",
        );
      }
      span.setAttribute("http.response.status_code", status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      try {
        options.onRequestDone?.({ method, route: match?.prefix ?? "unmatched", status, durationMs });
      } catch (error) {
        logger.error({ err: error }, "onRequestDone failed");
      }
    });
    if (!match) {
      sendJson(res, 404, NOT_FOUND_BODY);
      return;
    }
    const fail = (error: unknown) => {
      logger.error({ err: error, request_url: path }, "route handler failed");
      if (!res.headersSent) sendJson(res, 500, INTERNAL_BODY);
      else res.destroy();
    };
    context.with(trace.setSpan(parent, span), () => {
      try {
        const result: unknown = match.handler(req, res);
        if (result instanceof Promise) result.catch(fail);
      } catch (error) {
        fail(error);
      }
    });
  }

  h1.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const connection = h1Connections.get(req.socket);
    if (connection) {
      connection.active += 1;
      res.once("close", () => {
        connection.active -= 1;
        if (closing && connection.active === 0) req.socket.end();
      });
    }
    // Why: during shutdown, tell keep-alive clients to reconnect elsewhere after this response.
    if (closing) res.setHeader("connection", "close");
    dispatch(req, res);
  });
  h1.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    stripEdgeOnlyHeaders(req.headers);
    const path = pathOf(req.url);
    const handler = upgrades.get(path);
    logger.info({ request_method: req.method, request_url: path, upgrade: req.headers.upgrade }, "upgrade");
    if (!handler || closing) {
      socket.end(
        `HTTP/1.1 ${closing ? "503 Service Unavailable" : "404 Not Found"}\r\nConnection: close\r\n\r\n`,
      );
      return;
    }
    h1Connections.delete(socket as Socket);
    upgraded.add(socket);
    socket.once("close", () => upgraded.delete(socket));
    try {
      handler(req, socket, head);
    } catch (error) {
      logger.error({ err: error, request_url: path }, "upgrade handler failed");
      socket.destroy();
    }
  });
  h1.on("clientError", (error: Error, socket: Duplex) => {
    // Why: malformed input is the client's problem; answer 400 when possible, never crash.
    logger.debug({ err: error }, "bad HTTP/1.1 request");
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });

  h2.on("session", (session: Http2Session) => {
    h2Sessions.add(session);
    session.once("close", () => h2Sessions.delete(session));
    if (closing) session.close();
  });
  h2.on("request", (req: Http2ServerRequest, res: Http2ServerResponse) => dispatch(req, res));
  h2.on("sessionError", (error: Error) => logger.debug({ err: error }, "HTTP/2 session error"));

  function liveConnections(): number {
    return sniffing.size + h1Connections.size + h2Sessions.size + upgraded.size;
  }

  return {
    route(prefix, handler) {
      if (!prefix.startsWith("/")) throw new Error(`route prefix must start with "/": ${prefix}`);
      if (routes.some((r) => r.prefix === prefix)) throw new Error(`route ${prefix} is already mounted`);
      routes.push({ prefix, handler });
    },

    upgrade(path, handler) {
      if (upgrades.has(path)) throw new Error(`upgrade handler for ${path} is already mounted`);
      upgrades.set(path, handler);
    },

    listen() {
      return new Promise<{ url: string }>((resolve, reject) => {
        acceptor.once("error", reject);
        acceptor.listen(options.port, options.host, () => {
          acceptor.off("error", reject);
          acceptor.on("error", (error) => logger.error({ err: error }, "listener error"));
          const address = acceptor.address() as AddressInfo;
          const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
          const url = `http://${host}:${address.port}`;
          logger.info({ url }, "listening (HTTP/1.1 and h2c)");
          // Why: 'listening' starts http.Server's connection tracking, which enforces
          // headersTimeout/requestTimeout (slowloris) even though h1 never binds itself.
          h1.emit("listening");
          resolve({ url });
        });
      }).catch((error: unknown) => {
        throw new Error(`listen on ${options.host}:${options.port}`, { cause: error });
      });
    },

    close(graceMs) {
      closed ??= (async () => {
        closing = true;
        const stopped = new Promise<void>((resolve) => acceptor.close(() => resolve()));
        for (const socket of sniffing) socket.destroy();
        h1.close(() => undefined); // stops h1's connection-checking timer; it never bound, so no error matters
        for (const [socket, connection] of h1Connections) if (connection.active === 0) socket.end();
        for (const session of h2Sessions) session.close(); // GOAWAY: running streams finish, no new ones
        const deadline = Date.now() + graceMs;
        while (liveConnections() > 0 && Date.now() < deadline) await delay(10);
        if (liveConnections() > 0) {
          logger.warn({ connections: liveConnections(), grace_ms: graceMs }, "grace period over, destroying");
          for (const socket of h1Connections.keys()) socket.destroy();
          for (const session of h2Sessions) session.destroy();
          for (const socket of upgraded) socket.destroy();
          for (const socket of sniffing) socket.destroy();
        }
        await stopped;
      })();
      return closed;
    },
  };
}

function pathOf(url: string | undefined): string {
  if (!url) return "/";
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

function sendJson(res: HttpResponse, status: number, body: string): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.end(body);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
