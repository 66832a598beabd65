export { INTERNAL_TOKEN_HEADER, internalCallOptions } from "./internal-caller.ts";
export { serversMigrations } from "./migrations/index.ts";
export { serversModule } from "./module.ts";
export { SERVERS_SCHEMA } from "./servers.schema-name.ts";
