import type { AccessClaims } from "@beep/auth";
import type { ClientFactory } from "@beep/rpc";
import type { UserEventHub } from "./user-event-hub.ts";

/** The signed-in caller of a request or connection. */
export interface Viewer extends AccessClaims {
  /** The raw access token, forwarded so each service verifies the caller itself. */
  accessToken: string;
}

/** Service clients and hubs shared by every request. */
export interface GatewayServices {
  /** Typed clients of every service, local or remote. */
  clients: ClientFactory;
  hub: UserEventHub;
}

/** Opens the `events` stream of one graphql-ws subscription (set by the WebSocket server only). */
export interface StreamOpener {
  open(userId: string, since: string | null | undefined): Promise<AsyncIterableIterator<never>>;
}

/** What every resolver receives. */
export interface GatewayContext extends GatewayServices {
  viewer: Viewer | undefined;
  /** Client address as seen by this node. */
  ip: string;
  /** User agent, shown in the session list. */
  device: string;
  /** Present for graphql-ws subscriptions: opens the `events` stream on the node's stream hub. */
  stream?: StreamOpener;
}
