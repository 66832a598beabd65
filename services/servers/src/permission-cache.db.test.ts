import { CallerAuthenticator } from "@beep/auth";
import { MemoryBus, OutboxRelay } from "@beep/bus";
import { type DatabaseHandle, openTestSchema, serviceDatabase, type TestSchema } from "@beep/db";
import { BeepError } from "@beep/errors";
import { newId } from "@beep/ids";
import { createLogger } from "@beep/observability";
import { createContextValues, createHandlerContext } from "@connectrpc/connect";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChannelsService } from "./channels.service.ts";
import { INTERNAL_TOKEN_HEADER, InternalCallerGuard } from "./internal-caller.ts";
import { serversMigrations } from "./migrations/index.ts";
import { ModerationRepository } from "./moderation.repository.ts";
import { ModerationService } from "./moderation.service.ts";
import { PermissionCache } from "./permission-cache.ts";
import { PERMISSIONS as P } from "./permissions/index.ts";
import { PermissionsServiceDesc, permissionsRoutes } from "./permissions.routes.ts";
import { DRY_RUN_MAX_MEMBERS, PermissionsService } from "./permissions.service.ts";
import { RolesService } from "./roles.service.ts";
import { AccessReader } from "./server-access.ts";
import { ServersRepository } from "./servers.repository.ts";
import { SERVERS_SCHEMA } from "./servers.schema-name.ts";
import { type Caller, ServersService } from "./servers.service.ts";
import type { ServersTables } from "./servers.tables.ts";
import { invalidatingAfterWrites } from "./write-invalidation.ts";

const logger = createLogger({ service: "permission-cache-test", level: "silent" });
const LIMITS = { maxServersPerUser: 50, maxChannelsPerServer: 100, maxRolesPerServer: 20 };

let testSchema: TestSchema<ServersTables>;
let handle: DatabaseHandle;
let db: Kysely<ServersTables>;
let counted: Kysely<ServersTables>;
let countingPool: pg.Pool;
let queries = 0;
let bus: MemoryBus;
let relay: { stop(): Promise<void> };
const repo = new ServersRepository();
let servers: ServersService;
let channels: ChannelsService;
let roles: RolesService;

beforeAll(async () => {
  testSchema = await openTestSchema<ServersTables>({
    schema: SERVERS_SCHEMA,
    migrations: serversMigrations,
    logger,
  });
  handle = testSchema.handle;
  db = testSchema.db;
  // The same database through a Kysely whose log hook counts every query the cache sends.
  countingPool = new pg.Pool({ connectionString: testSchema.url, max: 4 });
  // Why: dropping the database at the end terminates idle connections (57P01); without a listener the
  // pool's 'error' event would be an uncaught exception that fails an otherwise green run.
  countingPool.on("error", () => undefined);
  counted = serviceDatabase<ServersTables>(
    new Kysely({
      dialect: new PostgresDialect({ pool: countingPool }),
      log: (event) => {
        if (event.level === "query") queries += 1;
      },
    }),
    SERVERS_SCHEMA,
  );
  const access = new AccessReader(repo);
  servers = new ServersService({ db, repo, access, logger, limits: LIMITS });
  channels = new ChannelsService({ db, repo, access, limits: LIMITS });
  roles = new RolesService({ db, repo, access, limits: LIMITS });
  bus = new MemoryBus(logger);
  const outbox = new OutboxRelay({ db: handle.db, schema: SERVERS_SCHEMA, bus, logger, pollIntervalMs: 25 });
  await outbox.start();
  relay = outbox;
}, 60_000);

afterAll(async () => {
  await relay?.stop();
  await bus?.close();
  await countingPool?.end();
  await testSchema?.close();
});

const user = (): Caller => ({ userId: newId() });

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A public server with a member holding role "mods" (MANAGE_MESSAGES), and `extra` more text channels. */
async function scene(extra = 1) {
  const owner = user();
  const member = user();
  const server = await servers.create(owner, { name: "Cache lab", description: "", public: true });
  const channelIds = [(await channels.list(owner, server.id))[0]?.id ?? ""];
  for (let i = 0; i < extra; i += 1) {
    channelIds.push(
      (await channels.create(owner, server.id, { name: `c${i}`, type: "text", parentId: "", topic: "" })).id,
    );
  }
  await servers.join(member, server.id);
  const mods = await roles.create(owner, server.id, {
    name: "mods",
    color: 0,
    permissions: String(P.MANAGE_MESSAGES),
  });
  await roles.assign(owner, server.id, mods.id, member.userId);
  return { owner, member, serverId: server.id, channelIds, modsId: mods.id };
}

describe("permission cache", () => {
  it("answers as the uncached path does, and follows role edits, overwrite edits and role removals via events", async () => {
    const cache = new PermissionCache({ db: counted, repo, maxServers: 100 });
    await cache.subscribe(bus);
    const service = new PermissionsService(cache);
    const { owner, member, serverId, channelIds, modsId } = await scene(2);
    const secret = channelIds[1] ?? "";
    const bits = async (channelId = secret) =>
      (await service.channelPermissions(member.userId, serverId, [channelId]))[0]?.permissions ?? -1n;

    for (const channelId of channelIds) {
      expect(await bits(channelId)).toBe(await channels.myPermissions(member, serverId, channelId));
    }
    expect((await bits()) & P.MANAGE_MESSAGES).toBe(P.MANAGE_MESSAGES);
    const warm = queries;
    await bits();
    expect(queries).toBe(warm); // served from memory

    await roles.update(owner, serverId, modsId, { permissions: String(P.MANAGE_MESSAGES | P.KICK_MEMBERS) });
    await eventually(async () => ((await bits()) & P.KICK_MEMBERS) !== 0n, "the role edit");

    await channels.setOverwrite(owner, secret, {
      targetType: "member",
      targetId: member.userId,
      allow: "0",
      deny: String(P.VIEW_CHANNEL),
    });
    await eventually(async () => (await bits()) === 0n, "the overwrite edit");
    expect(await bits(channelIds[0])).not.toBe(0n);

    await roles.remove(owner, serverId, modsId, member.userId);
    await eventually(
      async () => ((await bits(channelIds[0])) & P.MANAGE_MESSAGES) === 0n,
      "the role removal",
    );
    expect(await bits(channelIds[0])).toBe(
      await channels.myPermissions(member, serverId, channelIds[0] ?? ""),
    );
    await cache.close();
  });

  it("applies a timeout to cached answers, and lifts it when the timeout is cleared", async () => {
    const cache = new PermissionCache({ db, repo, maxServers: 100 });
    await cache.subscribe(bus);
    const service = new PermissionsService(cache);
    const { owner, member, serverId, channelIds } = await scene(0);
    const moderation = new ModerationService({
      db,
      repo,
      moderation: new ModerationRepository(),
      access: new AccessReader(repo),
      logger,
    });
    const general = channelIds[0] ?? "";
    const bits = async () =>
      (await service.channelPermissions(member.userId, serverId, [general]))[0]?.permissions ?? -1n;
    expect((await bits()) & P.SEND_MESSAGES).toBe(P.SEND_MESSAGES);

    const until = new Date(Date.now() + 3_600_000).toISOString();
    await moderation.timeout(owner, serverId, member.userId, { until, reason: "cool down" });
    await eventually(async () => (await bits()) === (P.VIEW_CHANNEL | P.READ_MESSAGE_HISTORY), "the timeout");
    expect(await bits()).toBe(await channels.myPermissions(member, serverId, general));

    await moderation.clearTimeout(owner, serverId, member.userId, "");
    await eventually(async () => ((await bits()) & P.SEND_MESSAGES) !== 0n, "the cleared timeout");
    await cache.close();
  });

  it("drops a server right after a write in this process, before any event arrives", async () => {
    const cache = new PermissionCache({ db, repo, maxServers: 100 }); // not subscribed: only local invalidation
    const service = new PermissionsService(cache);
    const { owner, member, serverId, channelIds, modsId } = await scene(0);
    const routes = invalidatingAfterWrites(
      {
        updateRole: async (request: { serverId: string; roleId: string; permissions: string }) => ({
          role: await roles.update(owner, request.serverId, request.roleId, {
            permissions: request.permissions,
          }),
        }),
      },
      cache,
    );
    const check = () => service.check(member.userId, serverId, channelIds[0] ?? "", String(P.KICK_MEMBERS));
    expect((await check()).allowed).toBe(false);
    await routes.updateRole({ serverId, roleId: modsId, permissions: String(P.KICK_MEMBERS) });
    expect((await check()).allowed).toBe(true);
  });

  it("loads a server with the same fixed number of queries for 1 or 30 channels, then none", async () => {
    const cache = new PermissionCache({ db: counted, repo, maxServers: 100 });
    const service = new PermissionsService(cache);
    const costOf = async (extra: number) => {
      const { member, serverId, channelIds } = await scene(extra);
      const before = queries;
      const answer = await service.channelPermissions(member.userId, serverId, channelIds);
      expect(answer.every((row) => row.permissions !== 0n)).toBe(true);
      const cold = queries - before;
      await service.channelPermissions(member.userId, serverId, channelIds);
      return { cold, warm: queries - before - cold };
    };
    const small = await costOf(0);
    const large = await costOf(29);
    expect(small).toEqual({ cold: 5, warm: 0 });
    expect(large).toEqual(small);
  });

  it("keeps at most `maxServers` servers, dropping the least recently used", async () => {
    const cache = new PermissionCache({ db, repo, maxServers: 2 });
    const a = await scene(0);
    const b = await scene(0);
    const c = await scene(0);
    await cache.get(a.serverId);
    await cache.get(b.serverId);
    await cache.get(a.serverId);
    await cache.get(c.serverId);
    expect(cache.size).toBe(2);
    expect(cache.serverOfChannel(a.channelIds[0] ?? "")).toBe(a.serverId);
    expect(cache.serverOfChannel(b.channelIds[0] ?? "")).toBeUndefined();
  });

  it("answers 0 for unknown channels, other servers' channels and non-members", async () => {
    const service = new PermissionsService(new PermissionCache({ db, repo, maxServers: 10 }));
    const one = await scene(0);
    const two = await scene(0);
    const rows = await service.channelPermissions(one.member.userId, one.serverId, [
      one.channelIds[0] ?? "",
      two.channelIds[0] ?? "",
      newId(),
      "not-an-id",
    ]);
    expect(rows.map((row) => row.permissions !== 0n)).toEqual([true, false, false, false]);
    const stranger = await service.channelPermissions(newId(), one.serverId, one.channelIds);
    expect(stranger.map((row) => row.permissions)).toEqual([0n]);
    expect((await service.check(newId(), one.serverId, "", "0")).allowed).toBe(false);
  });

  it("dry-runs over at most 1,000 members and says the answer is partial", async () => {
    const service = new PermissionsService(new PermissionCache({ db, repo, maxServers: 10 }));
    const { owner, serverId, channelIds } = await scene(0);
    await db
      .insertInto("members")
      .values(Array.from({ length: 1_005 }, () => ({ server_id: serverId, user_id: newId() })))
      .execute();
    const result = await service.dryRunOverwrite(owner, {
      serverId,
      channelId: channelIds[0] ?? "",
      targetType: "role",
      targetId: serverId,
      allow: "0",
      deny: String(P.VIEW_CHANNEL),
    });
    expect(result).toMatchObject({ membersChecked: DRY_RUN_MAX_MEMBERS, truncated: true });
    const lost = result.changes.find((change) => change.permission === "VIEW_CHANNEL")?.lost ?? [];
    expect(lost.length).toBe(DRY_RUN_MAX_MEMBERS - 1); // everyone compared but the owner
    expect(lost).not.toContain(owner.userId);
  });

  it("refuses internal RPCs without the internal token, with a wrong one, and answers with it", async () => {
    const guard = new InternalCallerGuard("s3cret-internal-token");
    const service = new PermissionsService(new PermissionCache({ db, repo, maxServers: 10 }));
    const callers = new CallerAuthenticator({
      verify: async () => {
        throw new BeepError("UNAUTHENTICATED", "no");
      },
    } as unknown as ConstructorParameters<typeof CallerAuthenticator>[0]);
    const routes = permissionsRoutes(service, callers, guard);
    const { member, serverId, channelIds } = await scene(0);
    const context = (headers: Record<string, string>) =>
      createHandlerContext({
        service: PermissionsServiceDesc,
        method: PermissionsServiceDesc.method.checkPermissions,
        protocolName: "connect",
        requestMethod: "POST",
        url: "http://127.0.0.1/beep.servers.v1.PermissionsService/CheckPermissions",
        requestHeader: new Headers(headers),
        contextValues: createContextValues(),
      });
    const request = {
      $typeName: "beep.servers.v1.CheckPermissionsRequest" as const,
      userId: member.userId,
      serverId,
      channelId: channelIds[0] ?? "",
      required: String(P.VIEW_CHANNEL),
    };
    const codeOf = async (headers: Record<string, string>) => {
      try {
        await routes.checkPermissions(request, context(headers));
        return "OK";
      } catch (error) {
        return error instanceof BeepError ? error.code : String(error);
      }
    };
    expect(await codeOf({})).toBe("FORBIDDEN");
    expect(await codeOf({ [INTERNAL_TOKEN_HEADER]: "s3cret-internal-tokeX" })).toBe("FORBIDDEN");
    expect(await codeOf({ authorization: "Bearer whatever" })).toBe("FORBIDDEN");
    expect(await codeOf({ [INTERNAL_TOKEN_HEADER]: "s3cret-internal-token" })).toBe("OK");
  });
});
