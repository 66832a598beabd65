import { createAccessTokenVerifier } from "@beep/auth";
import type { BlobStore } from "@beep/blob";
import type { Bus } from "@beep/bus";
import type { BeepConfig } from "@beep/config";
import { defineModule } from "@beep/kernel";
import type { ObservabilityRuntime } from "@beep/observability";
import { SessionsService } from "@beep/proto/gen/beep/users/v1/sessions_pb.ts";
import { UsersService } from "@beep/proto/gen/beep/users/v1/users_pb.ts";
import type { HttpListener, RpcRuntime } from "@beep/rpc";
import type { JSONWebKeySet } from "jose";
import { ATTACHMENTS_PATH_PREFIX, createAttachmentEdge } from "./attachments.edge.ts";
import { clientIpResolver } from "./client-ip.ts";
import { createForwardAuthHandler, FORWARD_AUTH_PATH } from "./forward-auth.ts";
import { createGatewayServer } from "./gateway.server.ts";
import { createPictureEdge, PICTURES_PATH_PREFIX } from "./profile-pictures.edge.ts";
import type { AudienceIndex, EventRoute } from "./realtime/audience.ts";
import { defaultEventRoutes } from "./realtime/event-routes.ts";
import { ServerAudienceIndex } from "./realtime/server-audience-index.ts";
import { StreamHub } from "./realtime/stream-hub.ts";
import { streamHubMetrics } from "./realtime/stream-metrics.ts";
import { visibleChannelsOverRpc } from "./realtime/visible-channels.rpc.ts";
import { createServerPictureEdge, SERVER_PICTURES_PATH_PREFIX } from "./server-pictures.edge.ts";
import { SessionSockets } from "./session-sockets.ts";
import { ssoEdges } from "./sso.edges.ts";
import { UserEventHub } from "./user-event-hub.ts";

/** The `gateway` target: the public GraphQL API over HTTP and WebSocket. */
export const gatewayModule = defineModule({
  name: "gateway",
  deps: ["config", "observability", "http", "bus", "rpc", "blob"],
  target: true,
  async init(k) {
    const config = k.get<BeepConfig>("config");
    const { logger: loggerFor, metrics } = k.get<ObservabilityRuntime>("observability");
    const logger = loggerFor("gateway");
    const http = k.get<HttpListener>("http");
    const clients = k.get<RpcRuntime>("rpc").clients;
    const users = clients.client(UsersService);
    const hub = new UserEventHub(k.get<Bus>("bus"), logger);
    // The real-time stream (api.md "Real-time"): who may see what, and how bus events become stream events.
    const audienceIndex: AudienceIndex = new ServerAudienceIndex(
      visibleChannelsOverRpc(clients, config.rpc.internalToken),
      logger,
    );
    const eventRoutes: readonly EventRoute[] = defaultEventRoutes;
    const { metrics: hubMetrics, inboundRateLimited } = streamHubMetrics(metrics);
    const streams = new StreamHub({
      bus: k.get<Bus>("bus"),
      audienceIndex,
      routes: eventRoutes,
      logger,
      replayWindowEvents: config.gateway.replayWindowEvents,
      replayWindowSeconds: config.gateway.replayWindowSeconds,
      maxSocketBufferBytes: config.gateway.maxSocketBufferBytes,
      metrics: hubMetrics,
    });
    const verifier = createAccessTokenVerifier({
      ...config.auth,
      fetchJwks: async () => JSON.parse((await users.getJwks({})).jwksJson) as JSONWebKeySet,
      // Key rotation (AUTH-2): new kids are fetched on sight, retired keys drop out within maxAge.
      maxAgeMs: config.auth.jwksMaxAgeSeconds * 1000,
      refetchCooldownMs: config.auth.jwksRefetchCooldownSeconds * 1000,
    });
    // Sessions (AUTH-4, AUTH-10): users says whether a token's session is live; revocations close sockets.
    const sessions = clients.client(SessionsService);
    const checkSession = (token: string) =>
      sessions.checkSession({}, { headers: { authorization: `Bearer ${token}` } });
    const sessionSockets = new SessionSockets(k.get<Bus>("bus"), logger);
    // A signed-out session must not upload: the picture edges check liveness like forward-auth does.
    const verifyLiveToken = async (token: string) => {
      const claims = await verifier.verify(token);
      await checkSession(token);
      return claims;
    };
    const server = createGatewayServer({
      services: { clients, hub },
      verifier,
      sessionSockets,
      checkSession: async (token) => void (await checkSession(token)),
      logger,
      limits: config.graphql,
      graphiql: config.env === "development",
      clientIp: clientIpResolver(config.http.trustedProxies),
      streams,
      inboundRateLimit: {
        maxMessages: config.gateway.inboundMessagesPerWindow,
        windowMs: config.gateway.inboundWindowSeconds * 1000,
        onExceeded: inboundRateLimited,
      },
    });
    metrics.registerGauge("gateway_open_streams", "Open myEvents subscriptions on this node", [], () =>
      hub.openStreams(),
    );
    metrics.registerGauge("gateway_event_streams_open", "Open `events` subscriptions on this node", [], () =>
      streams.openStreams(),
    );
    return {
      value: server,
      async start() {
        await hub.start();
        await streams.start();
        await sessionSockets.start();
        http.route(FORWARD_AUTH_PATH, createForwardAuthHandler({ verifier, checkSession, logger }));
        http.route("/graphql", (req, res) => server.handleHttp(req as never, res as never));
        http.upgrade("/graphql", (req, socket, head) => server.handleUpgrade(req, socket, head));
        http.route("/auth/oidc/", ssoEdges({ clients, logger, config }));
        http.route(
          PICTURES_PATH_PREFIX,
          createPictureEdge({
            clients,
            verifyToken: verifyLiveToken,
            maxBytes: config.users.maxPictureBytes,
            logger,
          }),
        );
        http.route(
          SERVER_PICTURES_PATH_PREFIX,
          createServerPictureEdge({
            clients,
            verifyToken: verifyLiveToken,
            maxBytes: config.servers.maxPictureBytes,
            logger,
          }),
        );
        http.route(
          ATTACHMENTS_PATH_PREFIX,
          createAttachmentEdge({
            clients,
            verifyToken: verifyLiveToken,
            blobs: k.get<BlobStore>("blob"),
            maxBytes: config.messages.maxAttachmentBytes,
            logger,
          }),
        );
      },
      async stop() {
        await server.close();
        await hub.stop();
        await streams.stop();
        await sessionSockets.stop();
      },
      // Ready only when users answers: without it no token can be verified.
      ready: async () => {
        await users.getJwks({}, { timeoutMs: 2_000 });
      },
    };
  },
});
