import { createAccessTokenVerifier } from "@beep/auth";
import type { Bus } from "@beep/bus";
import type { BeepConfig } from "@beep/config";
import { defineModule } from "@beep/kernel";
import type { ObservabilityRuntime } from "@beep/observability";
import { UsersService } from "@beep/proto/gen/beep/users/v1/users_pb.ts";
import type { HttpListener, RpcRuntime } from "@beep/rpc";
import type { JSONWebKeySet } from "jose";
import { createGatewayServer } from "./gateway.server.ts";
import { createPictureEdge, PICTURES_PATH_PREFIX } from "./profile-pictures.edge.ts";
import { UserEventHub } from "./user-event-hub.ts";

/** The `gateway` target: the public GraphQL API over HTTP and WebSocket. */
export const gatewayModule = defineModule({
  name: "gateway",
  deps: ["config", "observability", "http", "bus", "rpc"],
  target: true,
  async init(k) {
    const config = k.get<BeepConfig>("config");
    const { logger: loggerFor, metrics } = k.get<ObservabilityRuntime>("observability");
    const logger = loggerFor("gateway");
    const http = k.get<HttpListener>("http");
    const clients = k.get<RpcRuntime>("rpc").clients;
    const users = clients.client(UsersService);
    const hub = new UserEventHub(k.get<Bus>("bus"), logger);
    const verifier = createAccessTokenVerifier({
      ...config.auth,
      fetchJwks: async () => JSON.parse((await users.getJwks({})).jwksJson) as JSONWebKeySet,
    });
    const server = createGatewayServer({
      services: { clients, hub },
      verifier,
      logger,
      limits: config.graphql,
      graphiql: config.env === "development",
    });
    metrics.registerGauge("gateway_open_streams", "Open myEvents subscriptions on this node", [], () =>
      hub.openStreams(),
    );
    return {
      value: server,
      async start() {
        await hub.start();
        http.route("/graphql", (req, res) => server.handleHttp(req as never, res as never));
        http.upgrade("/graphql", (req, socket, head) => server.handleUpgrade(req, socket, head));
        http.route(
          PICTURES_PATH_PREFIX,
          createPictureEdge({
            clients,
            verifyToken: (token) => verifier.verify(token),
            maxBytes: config.users.maxPictureBytes,
            logger,
          }),
        );
      },
      async stop() {
        await server.close();
        await hub.stop();
      },
      // Ready only when users answers: without it no token can be verified.
      ready: async () => {
        await users.getJwks({}, { timeoutMs: 2_000 });
      },
    };
  },
});
