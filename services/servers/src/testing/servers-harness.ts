import { type DatabaseHandle, migrateSchema, serviceDatabase } from "@beep/db";
import type { Logger } from "@beep/observability";
import type { Kysely } from "kysely";
import { ChannelDirectoryService } from "../channel-directory.service.ts";
import { ChannelsService } from "../channels.service.ts";
import { serversMigrations } from "../migrations/index.ts";
import { ModerationRepository } from "../moderation.repository.ts";
import { ModerationService } from "../moderation.service.ts";
import { PermissionCache } from "../permission-cache.ts";
import { PermissionsService } from "../permissions.service.ts";
import { RolesService } from "../roles.service.ts";
import { AccessReader } from "../server-access.ts";
import { ServersRepository } from "../servers.repository.ts";
import { SERVERS_SCHEMA } from "../servers.schema-name.ts";
import { ServersService } from "../servers.service.ts";
import type { ServersTables } from "../servers.tables.ts";

/** The real servers services on a test database, for other services' tests (no RPC in between). */
export interface ServersHarness {
  db: Kysely<ServersTables>;
  servers: ServersService;
  channels: ChannelsService;
  roles: RolesService;
  moderation: ModerationService;
  /** Answers from a fresh snapshot every call, so tests see their writes at once. */
  permissions(): PermissionsService;
  /** Likewise, a directory over a fresh snapshot. */
  directory(): ChannelDirectoryService;
}

/** Migrates the servers schema into `handle`'s database and builds the services over it. */
export async function openServersHarness(handle: DatabaseHandle, logger: Logger): Promise<ServersHarness> {
  await migrateSchema(handle.db, SERVERS_SCHEMA, serversMigrations, logger);
  const db = serviceDatabase<ServersTables>(handle.db, SERVERS_SCHEMA);
  const repo = new ServersRepository();
  const access = new AccessReader(repo);
  const limits = { maxServersPerUser: 100, maxChannelsPerServer: 100, maxRolesPerServer: 100 };
  const freshCache = () => new PermissionCache({ db, repo, maxServers: 10 });
  return {
    db,
    servers: new ServersService({ db, repo, access, logger, limits }),
    channels: new ChannelsService({ db, repo, access, limits }),
    roles: new RolesService({ db, repo, access, limits }),
    moderation: new ModerationService({ db, repo, moderation: new ModerationRepository(), access, logger }),
    permissions: () => new PermissionsService(freshCache()),
    directory: () => new ChannelDirectoryService({ db, cache: freshCache() }),
  };
}
