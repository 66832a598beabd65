import { openTestSchema, type TestSchema } from "@beep/db";
import { BeepError } from "@beep/errors";
import { newId } from "@beep/ids";
import { openRateLimitStore, type RateLimitStore } from "@beep/limits";
import { createLogger } from "@beep/observability";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChannelsService } from "./channels.service.ts";
import { InviteRateLimit } from "./invites-rate.ts";
import { serversMigrations } from "./migrations/index.ts";
import { RolesService } from "./roles.service.ts";
import { AccessReader, type ServerLimits } from "./server-access.ts";
import { ServersRepository } from "./servers.repository.ts";
import { SERVERS_SCHEMA } from "./servers.schema-name.ts";
import { type Caller, ServersService } from "./servers.service.ts";
import type { ServersTables } from "./servers.tables.ts";
import { codeOf } from "./testing/error-code.ts";

const logger = createLogger({ service: "servers-test", level: "silent" });
const LIMITS: ServerLimits = { maxServersPerUser: 2, maxChannelsPerServer: 3, maxRolesPerServer: 2 };
const INVITES_PER_HOUR = 3;

let testSchema: TestSchema<ServersTables>;
let db: Kysely<ServersTables>;
let store: RateLimitStore;
let servers: ServersService;
let channels: ChannelsService;
let roles: RolesService;

beforeAll(async () => {
  testSchema = await openTestSchema<ServersTables>({
    schema: SERVERS_SCHEMA,
    migrations: serversMigrations,
    logger,
  });
  db = testSchema.db;
  store = await openRateLimitStore("memory://");
  const repo = new ServersRepository();
  const access = new AccessReader(repo);
  const inviteRate = new InviteRateLimit(store, INVITES_PER_HOUR);
  servers = new ServersService({ db, repo, access, logger, limits: LIMITS, inviteRate });
  channels = new ChannelsService({ db, repo, access, limits: LIMITS });
  roles = new RolesService({ db, repo, access, limits: LIMITS });
}, 60_000);

afterAll(async () => {
  await store?.close();
  await testSchema?.close();
});

const user = (): Caller => ({ userId: newId() });
const countInvites = async (serverId: string) =>
  (await db.selectFrom("invites").select("code").where("server_id", "=", serverId).execute()).length;

describe("limits against abuse (SRV-8)", () => {
  it("rate-limits invites per user per server per hour, with retryAfterMs, creating nothing", async () => {
    const owner = user();
    const server = await servers.create(owner, { name: "Invites", description: "", public: true });
    const other = await servers.create(user(), { name: "Other", description: "", public: true });
    const member = user();
    await servers.join(member, server.id);
    await servers.join(owner, other.id);
    const invite = (who: Caller, serverId = server.id) =>
      servers.createInvite(who, serverId, { maxAgeSeconds: 0, maxUses: 0 });
    for (let i = 0; i < INVITES_PER_HOUR; i += 1) await invite(owner);
    const refused = await invite(owner).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BeepError);
    expect((refused as BeepError).code).toBe("RATE_LIMITED");
    const retryAfterMs = (refused as BeepError).details.retryAfterMs ?? 0;
    expect(retryAfterMs).toBeGreaterThan(3_500_000);
    expect(retryAfterMs).toBeLessThanOrEqual(3_600_000);
    expect(await countInvites(server.id)).toBe(INVITES_PER_HOUR);
    // Another member of the server, and the same user in another server, have their own budgets.
    expect(await codeOf(invite(member))).toBe("OK");
    expect(await codeOf(invite(owner, other.id))).toBe("OK");
  });

  it("refuses joining one server more than the per-user limit, by public join or invite, using nothing", async () => {
    const joiner = user();
    const owned = await servers.create(joiner, { name: "Mine", description: "", public: true });
    const a = await servers.create(user(), { name: "Server A", description: "", public: true });
    const bOwner = user();
    const b = await servers.create(bOwner, { name: "Server B", description: "", public: false });
    const c = await servers.create(user(), { name: "Server C", description: "", public: true });
    await servers.join(joiner, a.id);
    expect((await servers.listMine(joiner)).map((s) => s.id).sort()).toEqual([owned.id, a.id].sort());
    expect(await codeOf(servers.join(joiner, c.id))).toBe("LIMIT_EXCEEDED");
    const code = (await servers.createInvite(bOwner, b.id, { maxAgeSeconds: 0, maxUses: 1 })).code;
    expect(await codeOf(servers.joinByInvite(joiner, code))).toBe("LIMIT_EXCEEDED");
    expect((await servers.listInvites(bOwner, b.id))[0]?.uses).toBe(0);
    expect(await codeOf(servers.create(joiner, { name: "Third", description: "", public: true }))).toBe(
      "LIMIT_EXCEEDED",
    );
    // Leaving makes room again.
    await servers.leave(joiner, a.id);
    expect(await codeOf(servers.joinByInvite(joiner, code))).toBe("OK");
  });

  it("refuses more channels (folders included) and roles (@everyone included) than the server limits", async () => {
    const owner = user();
    const server = await servers.create(owner, { name: "Full", description: "", public: true });
    const make = (type: string) =>
      channels.create(owner, server.id, { name: type, type, parentId: "", topic: "" });
    expect(await codeOf(make("folder"))).toBe("OK"); // #general + 1
    expect(await codeOf(make("voice"))).toBe("OK"); // 3 = the limit
    expect(await codeOf(make("text"))).toBe("LIMIT_EXCEEDED");
    expect(await codeOf(make("folder"))).toBe("LIMIT_EXCEEDED");
    expect(await codeOf(roles.create(owner, server.id, { name: "one", color: 0, permissions: "" }))).toBe(
      "OK",
    );
    expect(await codeOf(roles.create(owner, server.id, { name: "two", color: 0, permissions: "" }))).toBe(
      "LIMIT_EXCEEDED",
    );
    expect((await roles.list(owner, server.id)).length).toBe(LIMITS.maxRolesPerServer);
  });
});
