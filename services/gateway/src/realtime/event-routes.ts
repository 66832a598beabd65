import type { EventRoute } from "./audience.ts";
import { messagesRoutes } from "./routes/messages.routes.ts";
import { serversRoutes } from "./routes/servers.routes.ts";
import { usersRoutes } from "./routes/users.routes.ts";

/** Every feature's routes from bus events to stream events; a feature adds one file under routes/ and one line here. */
export const defaultEventRoutes: readonly EventRoute[] = [
  ...usersRoutes,
  ...serversRoutes,
  ...messagesRoutes,
];
