import type { AccessClaims } from "@beep/auth";
import type { UsersService } from "@beep/proto/gen/beep/users/v1/users_pb.ts";
import type { Client } from "@connectrpc/connect";
import type { UserEventHub } from "./user-event-hub.ts";

/** The signed-in caller of a request or connection. */
export interface Viewer extends AccessClaims {
  /** The raw access token, forwarded so each service verifies the caller itself. */
  accessToken: string;
}

/** Service clients and hubs shared by every request. */
export interface GatewayServices {
  users: Client<typeof UsersService>;
  hub: UserEventHub;
}

/** What every resolver receives. */
export interface GatewayContext extends GatewayServices {
  viewer: Viewer | undefined;
  /** Client address as seen by this node. */
  ip: string;
  /** User agent, shown in the session list. */
  device: string;
}
