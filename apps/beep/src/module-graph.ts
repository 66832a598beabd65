import type { BeepConfig } from "@beep/config";
import { gatewayModule } from "@beep/gateway";
import type { ModuleDefinition } from "@beep/kernel";
import { MESSAGES_SCHEMA, messagesMigrations, messagesModule } from "@beep/messages";
import type { HttpListener } from "@beep/rpc";
import { SERVERS_SCHEMA, serversMigrations, serversModule } from "@beep/servers";
import { USERS_SCHEMA, usersMigrations, usersModule } from "@beep/users";
import {
  blobModule,
  busModule,
  configModule,
  databaseModule,
  httpModule,
  observabilityModule,
  rpcModule,
} from "./modules/infrastructure.modules.ts";

/** Every target a user can name with --target (besides `all`). */
export const SERVICE_TARGETS = ["users", "servers", "messages", "gateway"] as const;

/**
 * The whole system's module graph, in one place (Loki's `loki.go`). Each
 * service module lists its dependencies; the kernel starts what the chosen
 * targets need, in order.
 */
export function createModuleGraph(
  config: BeepConfig,
  listener: HttpListener,
  processName: string,
): ModuleDefinition[] {
  return [
    configModule(config),
    observabilityModule(config, processName),
    httpModule(listener),
    databaseModule(config),
    busModule(config, SERVICE_TARGETS),
    rpcModule(config),
    blobModule(config),
    usersModule,
    serversModule,
    messagesModule,
    gatewayModule,
  ] as ModuleDefinition[];
}

/** Each service schema and its migrations, for `beep migrate`. */
export const SERVICE_MIGRATIONS = [
  { schema: USERS_SCHEMA, migrations: usersMigrations },
  { schema: SERVERS_SCHEMA, migrations: serversMigrations },
  { schema: MESSAGES_SCHEMA, migrations: messagesMigrations },
] as const;
