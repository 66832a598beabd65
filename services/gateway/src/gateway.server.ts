import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type AccessTokenVerifier, parseBearer } from "@beep/auth";
import { BeepError } from "@beep/errors";
import type { Logger } from "@beep/observability";
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import {
  type ExecutionResult,
  execute as executeGraphql,
  GraphQLError,
  type GraphQLFormattedError,
  getOperationAST,
  type ValidationContext,
} from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { createYoga } from "graphql-yoga";
import { type WebSocket, WebSocketServer } from "ws";
import { ExpiryTimers } from "./expiry-timers.ts";
import type { GatewayContext, GatewayServices, StreamOpener, Viewer } from "./gateway.context.ts";
import { createGatewaySchema } from "./gateway.schema.ts";
import { createErrorMasker, extensionsFor, useVariableErrorsAsUserInput } from "./gateway-errors.ts";
import { MAX_GRAPHQL_BODY_BYTES, preReadJsonBody } from "./graphql-body.ts";
import { createGraphqlPostFastPath } from "./graphql-post-fast-path.ts";
import { type InboundRateLimit, limitInboundMessages } from "./realtime/inbound-rate-limit.ts";
import { streamGroupKey } from "./realtime/stream-group-key.ts";
import type { StreamHub } from "./realtime/stream-hub.ts";
import { WsStreamSocket } from "./realtime/ws-stream-socket.ts";
import type { SessionSockets } from "./session-sockets.ts";
import { useStorableTextInputs } from "./storable-text-inputs.ts";
import { useValidationCache } from "./validation-cache.ts";

/** GraphQL limits from the `graphql.*` configuration. */
export interface GraphqlLimits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  maxTokens: number;
  maxDirectives: number;
}

/** Options of {@link createGatewayServer}. */
export interface GatewayServerOptions {
  services: GatewayServices;
  verifier: AccessTokenVerifier;
  logger: Logger;
  limits: GraphqlLimits;
  /** GraphiQL at GET /graphql; development only. */
  graphiql: boolean;
  /** Open sockets by session, closed when their session is revoked (AUTH-4). */
  sessionSockets?: SessionSockets;
  /** Refuses a token whose session ended before a socket opens (RPC to users). */
  checkSession?: (accessToken: string) => Promise<void>;
  /** The client IP of a request (trusted proxies); default: the socket peer. */
  clientIp?: (req: IncomingMessage) => string;
  /** The node's stream hub serving `events`; without it `events` is refused. */
  streams?: StreamHub;
  /** Inbound WebSocket message limit per socket; default: none. */
  inboundRateLimit?: InboundRateLimit;
  /**
   * Whether plain JSON POSTs skip yoga's fetch-API layer (graphql-post-fast-path.ts); default true. Off,
   * yoga serves every request: the reference the fast path is tested and measured against.
   */
  fastJsonPosts?: boolean;
}

/** An over-limit document as a client sees it: the stable code LIMIT_EXCEEDED, not armor's "Syntax Error". */
function limitExceeded(error: GraphQLError): GraphQLError {
  return new GraphQLError(error.message.replace(/^Syntax Error: /, ""), {
    extensions: { code: "LIMIT_EXCEEDED" },
  });
}

/**
 * How a document over the depth, alias, cost or directive limit is refused: reported as a validation
 * error (HTTP 400 under application/graphql-response+json, 200 under application/json, like every
 * validation error; nothing runs).
 */
const limitRejection = {
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) => context?.reportError(limitExceeded(error)),
  ],
};

/**
 * How a document over the token limit is refused. armor counts tokens in its parser, where there is no
 * validation context to report to (its handlers get null): thrown out of the parser instead, at the first
 * token over the limit, so the document fails as a parse error does (before validation, nothing runs; yoga
 * answers HTTP 400 under application/graphql-response+json and 200 under application/json, keeping the
 * code) and the rest of an oversized document is never lexed.
 */
const tokenLimitRejection = {
  propagateOnRejection: false,
  onReject: [
    (_context: ValidationContext | null, error: GraphQLError) => {
      throw limitExceeded(error);
    },
  ],
};

/**
 * An error as a WebSocket client gets it: without yoga's HTTP hints (`extensions.http`, `unexpected`), which
 * only set the status of an HTTP response and which yoga leaves out of its HTTP bodies too. They reach this
 * path on validation errors (yoga marks them whoever validates) and on variable errors (gateway-errors.ts).
 */
function formatForSocket(error: GraphQLError): GraphQLFormattedError {
  const formatted = error.toJSON();
  if (!formatted.extensions || !("http" in formatted.extensions || "unexpected" in formatted.extensions))
    return formatted;
  const { http: _http, unexpected: _unexpected, ...extensions } = formatted.extensions;
  return { ...formatted, extensions };
}

/** What the WebSocket server keeps per connection (graphql-ws's `extra`, next to the socket). */
type ConnectionExtra = {
  viewer?: Viewer;
  /** Set by onConnect, which graphql-ws runs before any operation. */
  ip?: string;
  device?: string;
  /** The TCP socket under the WebSocket. */
  tcp?: Duplex;
  streamSocket?: WsStreamSocket;
};

/** The `events` opener of one subscription, and the hub's iterator once it opened. */
interface OpenedStream extends StreamOpener {
  opened?: AsyncIterableIterator<never>;
}

/** WebSocket close code for a missing, invalid or expired token (api.md). */
export const CLOSE_UNAUTHENTICATED = 4401;
/** WebSocket close code (RFC 6455 "Try Again Later") when the connection could not be checked for a transient reason. */
export const CLOSE_TRY_AGAIN_LATER = 1013;

/** The GraphQL edge: HTTP handler and WebSocket upgrade handler for `/graphql`. */
export interface GatewayServer {
  handleHttp(req: IncomingMessage, res: import("node:http").ServerResponse): Promise<void>;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every WebSocket (code 1001) and stops accepting new ones. */
  close(): Promise<void>;
}

/** A close frame's reason is at most 123 bytes (RFC 6455); ws throws on a longer one. */
function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= 123) return text;
  let cut = text.slice(0, 120);
  while (Buffer.byteLength(cut) > 120) cut = cut.slice(0, -1);
  return `${cut}...`;
}

function peerIp(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? "";
}

/** Builds the yoga HTTP handler and the graphql-ws server over one schema and one set of limits. */
export function createGatewayServer(options: GatewayServerOptions): GatewayServer {
  const { services, verifier, logger, limits } = options;
  const clientIp = options.clientIp ?? peerIp;

  async function viewerFrom(authorization: unknown): Promise<Viewer | undefined> {
    if (authorization === undefined || authorization === null || authorization === "") return undefined;
    const token = typeof authorization === "string" ? parseBearer(authorization) : undefined;
    if (!token) throw new BeepError("UNAUTHENTICATED", "Authorization must be 'Bearer <access token>'");
    return { ...(await verifier.verify(token)), accessToken: token };
  }

  const yoga = createYoga<{ req: IncomingMessage }, GatewayContext>({
    schema: createGatewaySchema(),
    graphqlEndpoint: "/graphql",
    graphiql: options.graphiql ? { subscriptionsProtocol: "WS" } : false,
    landingPage: false,
    maskedErrors: { maskError: createErrorMasker(logger) },
    logging: false,
    maxRequestBodySize: MAX_GRAPHQL_BODY_BYTES,
    // Parsed documents stay in yoga's cache; validation results in useValidationCache (below).
    parserAndValidationCache: { validationCache: false },
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: {
          n: limits.maxDepth,
          flattenFragments: true,
          ignoreIntrospection: false,
          ...limitRejection,
        },
        maxAliases: { n: limits.maxAliases, ...limitRejection },
        costLimit: { maxCost: limits.maxCost, ...limitRejection },
        maxTokens: { n: limits.maxTokens, ...tokenLimitRejection },
        maxDirectives: { n: limits.maxDirectives, ...limitRejection },
        blockFieldSuggestion: { enabled: !options.graphiql },
      }),
      useStorableTextInputs(),
      useValidationCache(),
      useVariableErrorsAsUserInput(),
    ],
    // Headers come from the Node request itself (the same values: Node keeps one `authorization` and one
    // `user-agent`), which skips the fetch Headers wrapper.
    context: async ({ req }) => {
      try {
        return {
          ...services,
          viewer: await viewerFrom(req.headers.authorization),
          ip: clientIp(req),
          device: req.headers["user-agent"] ?? "",
        };
      } catch (error) {
        // A bad token fails the whole request at the edge: 401, no operation runs.
        if (error instanceof BeepError) {
          throw new GraphQLError(error.message, {
            extensions: {
              ...extensionsFor(error),
              http: { status: error.code === "UNAUTHENTICATED" ? 401 : 503 },
            },
          });
        }
        throw error;
      }
    },
  });

  const fastPath = options.fastJsonPosts === false ? undefined : createGraphqlPostFastPath(yoga);

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const inboundRateLimit = options.inboundRateLimit;
  // Registered before graphql-ws: the limiter counts a message before it is handled.
  if (inboundRateLimit) wss.on("connection", (socket) => limitInboundMessages(socket, inboundRateLimit));
  const streams = options.streams;
  const maskError = createErrorMasker(logger);
  const maskErrors = (result: ExecutionResult): ExecutionResult =>
    result.errors
      ? {
          ...result,
          errors: result.errors.map((error) => maskError(error, "Internal error") as GraphQLError),
        }
      : result;
  const maskStreamResult = (result: ExecutionResult | Promise<ExecutionResult>) =>
    result instanceof Promise ? result.then(maskErrors) : maskErrors(result);
  // Stream payloads are executed once for many users: no viewer, so no field may depend on who reads it.
  const streamContext: GatewayContext = { ...services, viewer: undefined, ip: "", device: "" };
  // One per connection, made on its first stream: the socket the hub corks and cuts off.
  const streamSocketOf = (extra: ConnectionExtra & { socket: WebSocket }) => {
    extra.streamSocket ??= new WsStreamSocket(extra.socket, extra.tcp as Duplex);
    return extra.streamSocket;
  };
  // An open socket must not outlive its token: closed so the client refreshes and resumes (one timer for all).
  const tokenExpiries = new ExpiryTimers<WebSocket>((socket) =>
    socket.close(CLOSE_UNAUTHENTICATED, "Access token expired"),
  );
  useServer<Record<string, unknown>, ConnectionExtra>(
    {
      onConnect: async (ctx) => {
        // What later operations need of the upgrade request, taken now: graphql-ws would otherwise hold the
        // request (its headers and stream state) for the connection's whole life.
        const { request } = ctx.extra;
        ctx.extra.ip = clientIp(request);
        ctx.extra.device = request.headers["user-agent"] ?? "";
        ctx.extra.tcp = request.socket;
        (ctx.extra as { request?: IncomingMessage }).request = undefined;
        try {
          const viewer = await viewerFrom(ctx.connectionParams?.authorization);
          ctx.extra.viewer = viewer;
          if (viewer) {
            await options.checkSession?.(viewer.accessToken);
            options.sessionSockets?.add(viewer.sessionId, ctx.extra.socket);
            // Closed while the session was checked: onClose has run, nothing to expire.
            if (ctx.extra.socket.readyState === ctx.extra.socket.OPEN)
              tokenExpiries.add(ctx.extra.socket, viewer.expiresAt.getTime());
          }
          return true;
        } catch (error) {
          if (error instanceof BeepError && error.code === "UNAUTHENTICATED") {
            ctx.extra.socket.close(CLOSE_UNAUTHENTICATED, closeReason(error.message));
            return false;
          }
          // Not the client's fault (the users service is down or slow, a bug): 1013 makes graphql-ws clients
          // retry with backoff, where graphql-ws's 4500 would make them give up for good.
          if (!(error instanceof BeepError))
            logger.error({ err: error }, "WebSocket connection check failed");
          ctx.extra.socket.close(
            CLOSE_TRY_AGAIN_LATER,
            closeReason(error instanceof BeepError ? error.message : "Internal error, try again later"),
          );
          return false;
        }
      },
      onClose: (ctx) => {
        const viewer = ctx.extra.viewer;
        if (viewer) {
          tokenExpiries.delete(ctx.extra.socket, viewer.expiresAt.getTime());
          options.sessionSockets?.remove(viewer.sessionId, ctx.extra.socket);
        }
      },
      onSubscribe: async (ctx, id, payload) => {
        const { schema, execute, subscribe, parse, validate } = yoga.getEnveloped({
          ...ctx,
          // Not kept past onConnect (above); no plugin of this server reads it over WebSocket.
          req: undefined as unknown as IncomingMessage,
          socket: ctx.extra.socket,
          params: payload,
        });
        let document: ReturnType<typeof parse>;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [
            error instanceof GraphQLError
              ? error
              : new GraphQLError("Syntax error", { extensions: { code: "GRAPHQL_PARSE_FAILED" } }),
          ];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        const contextValue: GatewayContext = {
          ...services,
          viewer: ctx.extra.viewer,
          ip: ctx.extra.ip ?? "",
          device: ctx.extra.device ?? "",
        };
        if (streams && getOperationAST(document, payload.operationName)?.operation === "subscription") {
          const stream: OpenedStream = {
            open: async (userId, since) => {
              stream.opened = await streams.open({
                subscriptionId: id,
                userId,
                since,
                socket: streamSocketOf(ctx.extra),
                groupKey: streamGroupKey(payload.query, document, payload),
                // graphql-js execute runs the subscription selection on one event (what graphql's subscribe
                // does per event); yoga's executor would start a new subscription instead.
                execute: (root) =>
                  maskStreamResult(
                    executeGraphql({
                      schema,
                      document,
                      operationName: payload.operationName,
                      variableValues: payload.variables,
                      contextValue: streamContext,
                      rootValue: root,
                    }),
                  ),
              });
              return stream.opened;
            },
          };
          contextValue.stream = stream;
        }
        return {
          schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue,
          rootValue: { execute, subscribe },
        };
      },
      onOperation: (_ctx, _id, _payload, execArgs, result) => {
        // An open events stream never yields through graphql (the hub writes its frames): graphql-ws holds the
        // hub's iterator itself rather than the execution's wrappers around it, which each held stream would keep.
        const opened = (execArgs.contextValue as { stream?: OpenedStream } | undefined)?.stream?.opened;
        return opened && Symbol.asyncIterator in result ? opened : undefined;
      },
      execute: (args) => (args.rootValue as { execute: typeof import("graphql").execute }).execute(args),
      subscribe: (args) =>
        (args.rootValue as { subscribe: typeof import("graphql").subscribe }).subscribe(args),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map(formatForSocket) } : undefined,
      onError: (_ctx, _id, _payload, errors) => {
        logger.debug({ errors: errors.map((e) => e.message) }, "subscription rejected");
        return errors.map(formatForSocket);
      },
    },
    wss,
  );

  return {
    async handleHttp(req, res) {
      const body = preReadJsonBody(req);
      if (body) {
        let parsed: unknown;
        try {
          parsed = await body;
        } catch {
          res.destroy();
          return;
        }
        (req as IncomingMessage & { body?: unknown }).body = parsed;
        if (fastPath && (await fastPath.serve(req, res, parsed))) return;
      }
      // The yoga instance is a Node request listener: it parses, executes and writes the response; its
      // server context already holds `req`.
      await yoga(req, res);
    },
    handleUpgrade(req, socket, head) {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
    },
    async close() {
      for (const client of wss.clients) client.close(1001, "Server shutting down");
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
