import { openTestSchema, serviceDatabase, type TestSchema } from "@beep/db";
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
import { RolesService } from "./roles.service.ts";
import { AccessReader } from "./server-access.ts";
import { ServersRepository } from "./servers.repository.ts";
import { SERVERS_SCHEMA } from "./servers.schema-name.ts";
import { type Caller, ServersService } from "./servers.service.ts";
import type { ServersTables } from "./servers.tables.ts";
import { codeOf } from "./testing/error-code.ts";
import { VisibilityServiceDesc, visibilityRoutes } from "./visibility.routes.ts";
import { VISIBLE_CHANNELS_MAX_USERS, VisibilityService } from "./visibility.service.ts";

const logger = createLogger({ service: "visibility-test", level: "silent" });
const LIMITS = { maxServersPerUser: 50, maxChannelsPerServer: 100, maxRolesPerServer: 20 };
const repo = new ServersRepository();

let testSchema: TestSchema<ServersTables>;
let db: Kysely<ServersTables>;
let counted: Kysely<ServersTables>;
let countingPool: pg.Pool;
let queries = 0;
let servers: ServersService;
let channels: ChannelsService;
let roles: RolesService;
let moderation: ModerationService;

beforeAll(async () => {
  testSchema = await openTestSchema<ServersTables>({
    schema: SERVERS_SCHEMA,
    migrations: serversMigrations,
    logger,
  });
  db = testSchema.db;
  countingPool = new pg.Pool({ connectionString: testSchema.url, max: 8 });
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
  moderation = new ModerationService({ db, repo, moderation: new ModerationRepository(), access, logger });
}, 60_000);

afterAll(async () => {
  await countingPool?.end();
  await testSchema?.close();
});

const user = (): Caller => ({ userId: newId() });

/**
 * A server with: a public channel, a private channel (@everyone denied VIEW_CHANNEL, role "insiders"
 * allowed), a channel denying one member by member overwrite; members: plain, insider, admin
 * (ADMINISTRATOR role), timed-out, and the owner.
 */
async function scene() {
  const owner = user();
  const [plain, insider, admin, timedOut] = [user(), user(), user(), user()];
  const server = await servers.create(owner, { name: "Visibility lab", description: "", public: true });
  const general = (await channels.list(owner, server.id))[0]?.id ?? "";
  const make = async (name: string) =>
    (await channels.create(owner, server.id, { name, type: "text", parentId: "", topic: "" })).id;
  const secret = await make("secret");
  const noPlain = await make("no-plain");
  for (const member of [plain, insider, admin, timedOut]) await servers.join(member, server.id);
  const insiders = await roles.create(owner, server.id, { name: "insiders", color: 0, permissions: "0" });
  const admins = await roles.create(owner, server.id, {
    name: "admins",
    color: 0,
    permissions: String(P.ADMINISTRATOR),
  });
  await roles.assign(owner, server.id, insiders.id, insider.userId);
  await roles.assign(owner, server.id, admins.id, admin.userId);
  await channels.setOverwrite(owner, secret, {
    targetType: "role",
    targetId: server.id,
    allow: "0",
    deny: String(P.VIEW_CHANNEL),
  });
  await channels.setOverwrite(owner, secret, {
    targetType: "role",
    targetId: insiders.id,
    allow: String(P.VIEW_CHANNEL),
    deny: "0",
  });
  await channels.setOverwrite(owner, noPlain, {
    targetType: "member",
    targetId: plain.userId,
    allow: "0",
    deny: String(P.VIEW_CHANNEL),
  });
  await moderation.timeout(owner, server.id, timedOut.userId, {
    until: new Date(Date.now() + 3_600_000).toISOString(),
    reason: "cool down",
  });
  return { owner, plain, insider, admin, timedOut, serverId: server.id, general, secret, noPlain };
}

describe("VisibilityService.visibleChannels", () => {
  for (const fresh of [true, false]) {
    it(`answers each member's servers and viewable channels as the engine does (fresh=${fresh})`, async () => {
      const cache = new PermissionCache({ db, repo, maxServers: 100 });
      const visibility = new VisibilityService({ db, cache });
      const s = await scene();
      const stranger = user();
      const answer = await visibility.visibleChannels(
        [s.owner, s.plain, s.insider, s.admin, s.timedOut, stranger].map((u) => u.userId).concat(["nope"]),
        fresh,
      );
      const channelsOf = (index: number) =>
        new Set(answer[index]?.servers.find((entry) => entry.serverId === s.serverId)?.channelIds);
      const all = new Set([s.general, s.secret, s.noPlain]);
      expect(channelsOf(0)).toEqual(all); // the owner
      expect(channelsOf(1)).toEqual(new Set([s.general])); // role and member overwrites deny
      expect(channelsOf(2)).toEqual(new Set([s.general, s.secret, s.noPlain])); // role overwrite allows
      expect(channelsOf(3)).toEqual(all); // ADMINISTRATOR bypasses overwrites
      expect(channelsOf(4)).toEqual(new Set([s.general, s.noPlain])); // a timeout keeps VIEW_CHANNEL
      expect(answer[5]).toEqual({ userId: stranger.userId, servers: [] });
      expect(answer[6]).toEqual({ userId: "nope", servers: [] });
      // Same answer as the per-channel path for every member and channel.
      for (const [index, member] of [s.owner, s.plain, s.insider, s.admin, s.timedOut].entries()) {
        for (const channelId of all) {
          const bits = await channels.myPermissions(member, s.serverId, channelId).catch(() => 0n);
          expect(channelsOf(index).has(channelId)).toBe((bits & P.VIEW_CHANNEL) !== 0n);
        }
      }
    });
  }

  it("fresh=true sees a change the cache has not heard of; fresh=false serves the cache", async () => {
    const cache = new PermissionCache({ db, repo, maxServers: 100 }); // not subscribed: never invalidated
    const visibility = new VisibilityService({ db, cache });
    const s = await scene();
    const seen = async (fresh: boolean) =>
      (await visibility.visibleChannels([s.plain.userId], fresh))[0]?.servers[0]?.channelIds ?? [];
    expect(await seen(false)).toEqual([s.general]);
    await channels.deleteOverwrite(s.owner, s.noPlain, { targetType: "member", targetId: s.plain.userId });
    expect(await seen(false)).toEqual([s.general]); // stale, as cached
    expect(await seen(true)).toEqual([s.general, s.noPlain]);
  });

  it("reads a fixed number of queries with fresh=true whatever the number of users and servers", async () => {
    const visibility = new VisibilityService({
      db: counted,
      cache: new PermissionCache({ db: counted, repo, maxServers: 100 }),
    });
    const small = await scene();
    queries = 0;
    await visibility.visibleChannels([small.plain.userId], true);
    const one = queries;
    const scenes = [await scene(), await scene(), await scene()];
    queries = 0;
    const answer = await visibility.visibleChannels(
      scenes.flatMap((s) => [s.owner, s.plain, s.insider, s.admin, s.timedOut].map((u) => u.userId)),
      true,
    );
    expect(queries).toBe(one);
    expect(one).toBeLessThanOrEqual(7);
    expect(answer.every((entry) => entry.servers.length === 1)).toBe(true);
  });

  it("answers the full batch of users in one go", async () => {
    const visibility = new VisibilityService({
      db,
      cache: new PermissionCache({ db, repo, maxServers: 10 }),
    });
    const s = await scene();
    const ids = Array.from({ length: VISIBLE_CHANNELS_MAX_USERS - 1 }, () => newId()).concat(s.plain.userId);
    const answer = await visibility.visibleChannels(ids, true);
    expect(answer).toHaveLength(VISIBLE_CHANNELS_MAX_USERS);
    expect(answer.at(-1)?.servers).toEqual([{ serverId: s.serverId, channelIds: [s.general] }]);
  });

  it("refuses more users than the limit with BAD_USER_INPUT", async () => {
    const visibility = new VisibilityService({ db, cache: new PermissionCache({ db, repo, maxServers: 1 }) });
    const ids = Array.from({ length: VISIBLE_CHANNELS_MAX_USERS + 1 }, () => newId());
    expect(await codeOf(visibility.visibleChannels(ids, true))).toBe("BAD_USER_INPUT");
  });

  it("is internal only: the route refuses a call without the internal token", async () => {
    const guard = new InternalCallerGuard("visibility-test-token");
    const routes = visibilityRoutes(
      new VisibilityService({ db, cache: new PermissionCache({ db, repo, maxServers: 10 }) }),
      guard,
    );
    const s = await scene();
    const context = (token?: string) =>
      createHandlerContext({
        service: VisibilityServiceDesc,
        method: VisibilityServiceDesc.method.visibleChannels,
        protocolName: "connect",
        requestMethod: "POST",
        url: "http://127.0.0.1/beep.servers.v1.VisibilityService/VisibleChannels",
        requestHeader: new Headers(token ? { [INTERNAL_TOKEN_HEADER]: token } : {}),
        contextValues: createContextValues(),
      });
    const request = {
      $typeName: "beep.servers.v1.VisibleChannelsRequest" as const,
      userIds: [s.plain.userId],
      fresh: true,
    };
    expect(await codeOf(Promise.resolve(routes.visibleChannels(request, context())))).toBe("FORBIDDEN");
    expect(await codeOf(Promise.resolve(routes.visibleChannels(request, context("wrong"))))).toBe(
      "FORBIDDEN",
    );
    const ok = await routes.visibleChannels(request, context("visibility-test-token"));
    expect(ok.users?.[0]?.servers?.[0]?.channelIds).toEqual([s.general]);
  });
});
