import { type DatabaseHandle, openTestSchema, type TestSchema } from "@beep/db";
import { newId } from "@beep/ids";
import { openRateLimitStore, type RateLimitStore } from "@beep/limits";
import { createLogger } from "@beep/observability";
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InAppInvitesService } from "./in-app-invites.service.ts";
import { InviteRateLimit } from "./invites-rate.ts";
import { serversMigrations } from "./migrations/index.ts";
import { AccessReader, type ServerLimits } from "./server-access.ts";
import { ServersRepository } from "./servers.repository.ts";
import { SERVERS_SCHEMA } from "./servers.schema-name.ts";
import { type Caller, ServersService } from "./servers.service.ts";
import type { ServersTables } from "./servers.tables.ts";
import { codeOf } from "./testing/error-code.ts";

const logger = createLogger({ service: "servers-test", level: "silent" });
const LIMITS: ServerLimits = { maxServersPerUser: 100, maxChannelsPerServer: 10, maxRolesPerServer: 10 };

let testSchema: TestSchema<ServersTables>;
let handle: DatabaseHandle;
let db: Kysely<ServersTables>;
let store: RateLimitStore;
let servers: ServersService;
let invites: InAppInvitesService;

beforeAll(async () => {
  testSchema = await openTestSchema<ServersTables>({
    schema: SERVERS_SCHEMA,
    migrations: serversMigrations,
    logger,
  });
  handle = testSchema.handle;
  db = testSchema.db;
  store = await openRateLimitStore("memory://");
  const repo = new ServersRepository();
  const access = new AccessReader(repo);
  const inviteRate = new InviteRateLimit(store, 5);
  servers = new ServersService({ db, repo, access, logger, limits: LIMITS, inviteRate });
  invites = new InAppInvitesService({ db, repo, access, servers });
}, 60_000);

afterAll(async () => {
  await store?.close();
  await testSchema?.close();
});

const user = (): Caller => ({ userId: newId() });

async function received(serverId: string) {
  const result = await sql<{ payload: Record<string, unknown> }>`
    select payload from servers.outbox where type = 'invite.received' and payload->>'serverId' = ${serverId}
     order by id`.execute(handle.db);
  return result.rows.map((row) => row.payload);
}

describe("in-app invites (SRV-3)", () => {
  it("sends an invite the recipient sees, is told of, and accepts by joining with the code", async () => {
    const owner = user();
    const guest = user();
    const server = await servers.create(owner, { name: "Salon", description: "", public: false });
    const sent = await invites.send(owner, server.id, guest.userId);
    expect(sent).toMatchObject({ serverId: server.id, serverName: "Salon", inviterId: owner.userId });
    expect(await received(server.id)).toEqual([
      {
        serverId: server.id,
        userId: guest.userId,
        invite: {
          code: sent.code,
          serverId: server.id,
          serverName: "Salon",
          inviterId: owner.userId,
          expiresAt: sent.expiresAt,
        },
      },
    ]);
    expect((await invites.listMine(guest)).map((i) => i.code)).toEqual([sent.code]);
    expect(await invites.listMine(user())).toEqual([]);
    // The code opens the server to its recipient only.
    expect(await codeOf(servers.joinByInvite(user(), sent.code))).toBe("NOT_FOUND");
    expect((await servers.joinByInvite(guest, sent.code)).id).toBe(server.id);
    expect(await invites.listMine(guest)).toEqual([]);
    expect(await codeOf(invites.send(owner, server.id, guest.userId))).toBe("CONFLICT");
  });

  it("declines (removed, code revoked); sending again replaces the pending invite", async () => {
    const owner = user();
    const guest = user();
    const server = await servers.create(owner, { name: "Club", description: "", public: true });
    const first = await invites.send(owner, server.id, guest.userId);
    const second = await invites.send(owner, server.id, guest.userId);
    expect((await invites.listMine(guest)).map((i) => i.code)).toEqual([second.code]);
    expect(await codeOf(servers.joinByInvite(guest, first.code))).toBe("NOT_FOUND");
    expect(await codeOf(invites.decline(user(), second.code))).toBe("NOT_FOUND");
    expect(await invites.decline(guest, second.code)).toBe(second.code);
    expect(await invites.listMine(guest)).toEqual([]);
    expect(await codeOf(servers.joinByInvite(guest, second.code))).toBe("NOT_FOUND");
    expect(await codeOf(invites.decline(guest, second.code))).toBe("NOT_FOUND");
  });

  it("follows createInvite's rules: members only, CREATE_INSTANT_INVITE on private servers, the hourly budget", async () => {
    const owner = user();
    const member = user();
    const priv = await servers.create(owner, { name: "Private", description: "", public: false });
    const invite = await servers.createInvite(owner, priv.id, { maxAgeSeconds: 0, maxUses: 0 });
    await servers.joinByInvite(member, invite.code);
    expect(await codeOf(invites.send(member, priv.id, newId()))).toBe("FORBIDDEN");
    expect(await codeOf(invites.send(user(), priv.id, newId()))).toBe("NOT_FOUND");
    expect(await codeOf(invites.send(owner, priv.id, owner.userId))).toBe("BAD_USER_INPUT");
    expect(await codeOf(invites.send(owner, priv.id, "nope"))).toBe("NOT_FOUND");
    expect(await codeOf(invites.send(owner, "123", newId()))).toBe("NOT_FOUND");
    // 1 invite link above, 4 in-app invites: 5 = the budget.
    for (let i = 0; i < 4; i += 1) await invites.send(owner, priv.id, newId());
    expect(await codeOf(invites.send(owner, priv.id, newId()))).toBe("RATE_LIMITED");
  });
});
