import { createTestDatabase, migrateSchema, openDatabase, serviceDatabase } from "@beep/db";
import { newId } from "@beep/ids";
import { createLogger } from "@beep/observability";
import { ChannelsService } from "../services/servers/src/channels.service.ts";
import { serversMigrations } from "../services/servers/src/migrations/index.ts";
import { PermissionCache } from "../services/servers/src/permission-cache.ts";
import { PermissionsService } from "../services/servers/src/permissions.service.ts";
import { AccessReader } from "../services/servers/src/server-access.ts";
import { ServersRepository } from "../services/servers/src/servers.repository.ts";
import { SERVERS_SCHEMA } from "../services/servers/src/servers.schema-name.ts";
import { ServersService } from "../services/servers/src/servers.service.ts";
import type { ServersTables } from "../services/servers/src/servers.tables.ts";

/** ns per ChannelPermissions answer for one user and 10 channels, warm (memory) and cold (5 queries). */
export interface PermissionCacheFigures {
  warmNsPerCall: number;
  coldNsPerCall: number;
}

/**
 * PermissionsService.channelPermissions for one member and 10 channels: answered from the warm cache,
 * and cold (the server's snapshot dropped before each call, so each call loads it from PostgreSQL).
 * Best of 5 rounds each. Needs the test PostgreSQL (BEEP_TEST_DATABASE_URL or 127.0.0.1:5432).
 */
export async function benchPermissionCache(): Promise<PermissionCacheFigures> {
  const logger = createLogger({ service: "bench", level: "silent" });
  const tdb = await createTestDatabase();
  const handle = await openDatabase({
    url: tdb.url,
    embedded: { dataDir: "", port: 0 },
    poolSize: 4,
    logger,
  });
  try {
    await migrateSchema(handle.db, SERVERS_SCHEMA, serversMigrations, logger);
    const db = serviceDatabase<ServersTables>(handle.db, SERVERS_SCHEMA);
    const repo = new ServersRepository();
    const access = new AccessReader(repo);
    const limits = { maxServersPerUser: 10, maxChannelsPerServer: 50, maxRolesPerServer: 10 };
    const servers = new ServersService({ db, repo, access, logger, limits });
    const channels = new ChannelsService({ db, repo, access, limits });
    const owner = { userId: newId() };
    const member = { userId: newId() };
    const server = await servers.create(owner, { name: "Bench", description: "", public: true });
    await servers.join(member, server.id);
    const ids = [(await channels.list(owner, server.id))[0]?.id ?? ""];
    while (ids.length < 10) {
      ids.push(
        (
          await channels.create(owner, server.id, {
            name: `c${ids.length}`,
            type: "text",
            parentId: "",
            topic: "",
          })
        ).id,
      );
    }
    const cache = new PermissionCache({ db, repo, maxServers: 100 });
    const service = new PermissionsService(cache);
    const call = () => service.channelPermissions(member.userId, server.id, ids);

    const best = async (iterations: number, cold: boolean) => {
      let min = Number.POSITIVE_INFINITY;
      for (let round = 0; round < 5; round++) {
        const start = process.hrtime.bigint();
        for (let i = 0; i < iterations; i++) {
          if (cold) cache.invalidate(server.id);
          await call();
        }
        min = Math.min(min, Number(process.hrtime.bigint() - start) / iterations);
      }
      return min;
    };
    await best(200, false);
    const warmNsPerCall = await best(20_000, false);
    const coldNsPerCall = await best(100, true);
    return { warmNsPerCall, coldNsPerCall };
  } finally {
    await handle.close();
    await tdb.drop();
  }
}

/** The bench's report lines for bench/run.ts. */
export async function permissionCacheReport(): Promise<string> {
  const { warmNsPerCall, coldNsPerCall } = await benchPermissionCache();
  const ns = (value: number) => Math.round(value).toLocaleString("en");
  return `\nPermission cache: ChannelPermissions, 1 user × 10 channels\n  warm (memory) ${ns(warmNsPerCall)} ns/call   cold (5 queries) ${ns(coldNsPerCall)} ns/call   ${Math.round(coldNsPerCall / warmNsPerCall)}× slower cold\n`;
}
