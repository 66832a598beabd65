export { CLOSE_UNAUTHENTICATED, createGatewayServer, type GatewayServer } from "./gateway.server.ts";
export { gatewayModule } from "./module.ts";
