import { type DatabaseHandle, openTestSchema, type TestSchema } from "@beep/db";
import { newId } from "@beep/ids";
import { createLogger } from "@beep/observability";
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChannelsService } from "./channels.service.ts";
import { serversMigrations } from "./migrations/index.ts";
import type { ModerationService } from "./moderation.service.ts";
import { PERMISSIONS as P } from "./permissions/index.ts";
import type { RolesService } from "./roles.service.ts";
import { SERVERS_SCHEMA } from "./servers.schema-name.ts";
import type { Caller, ServersService } from "./servers.service.ts";
import type { ServersTables } from "./servers.tables.ts";
import { openServersHarness } from "./testing/servers-harness.ts";

const logger = createLogger({ service: "event-payloads-test", level: "silent" });

let testSchema: TestSchema<ServersTables>;
let handle: DatabaseHandle;
let _db: Kysely<ServersTables>;
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
  handle = testSchema.handle;
  _db = testSchema.db;
  ({ servers, channels, roles, moderation } = await openServersHarness(handle, logger));
}, 60_000);

afterAll(async () => {
  await testSchema?.close();
});

const user = (): Caller => ({ userId: newId() });
type OutboxEvent = { type: string; payload: Record<string, unknown> };

/** The server's events written after `after` (an outbox seq), in order. */
async function eventsOf(serverId: string, after = "0"): Promise<Array<OutboxEvent & { id: string }>> {
  const result = await sql<OutboxEvent & { id: string }>`
    select seq::text as id, type, payload from servers.outbox
    where payload->>'serverId' = ${serverId} and seq > ${after}::bigint order by seq`.execute(handle.db);
  return result.rows;
}
const lastId = async (serverId: string) => (await eventsOf(serverId)).at(-1)?.id ?? "0";

describe("servers events carry the views (realtime contract)", () => {
  it("server.created/updated carry the server, member.joined/updated the member", async () => {
    const owner = user();
    const member = user();
    const server = await servers.create(owner, { name: "Fat lab", description: "", public: true });
    const created = await eventsOf(server.id);
    expect(created.map((e) => e.type)).toEqual(["server.created", "member.joined"]);
    expect(created[0]?.payload).toMatchObject({ serverId: server.id, ownerId: owner.userId, server });
    expect(created[1]?.payload).toMatchObject({
      serverId: server.id,
      userId: owner.userId,
      member: { serverId: server.id, userId: owner.userId, roleIds: [], owner: true },
    });

    let mark = await lastId(server.id);
    await servers.join(member, server.id);
    const updated = await servers.update(owner, server.id, { name: "Fatter lab" });
    const [joined, renamed] = await eventsOf(server.id, mark);
    expect(joined).toMatchObject({
      type: "member.joined",
      payload: { userId: member.userId, member: { userId: member.userId, owner: false } },
    });
    expect(renamed).toMatchObject({
      type: "server.updated",
      payload: { serverId: server.id, name: "Fatter lab", server: updated },
    });

    mark = await lastId(server.id);
    const transferred = await servers.transferOwnership(owner, server.id, member.userId);
    expect((await eventsOf(server.id, mark))[0]?.payload).toEqual({
      serverId: server.id,
      ownerId: member.userId,
      server: transferred,
    });

    mark = await lastId(server.id);
    const role = await roles.create(member, server.id, { name: "r", color: 0, permissions: "0" });
    const assigned = await roles.assign(member, server.id, role.id, owner.userId);
    const events = await eventsOf(server.id, mark);
    expect(events[0]).toMatchObject({ type: "role.created", payload: { roleId: role.id, role } });
    expect(events.at(-1)).toMatchObject({
      type: "member.updated",
      payload: { userId: owner.userId, member: { ...assigned, roleIds: [role.id] } },
    });
  });

  it("role.created/updated carry the role, and renumbered roles are announced too", async () => {
    const owner = user();
    const server = await servers.create(owner, { name: "Roles lab", description: "", public: true });
    const low = await roles.create(owner, server.id, { name: "low", color: 0, permissions: "0" });
    let mark = await lastId(server.id);
    const high = await roles.create(owner, server.id, { name: "high", color: 1, permissions: "0" });
    const events = await eventsOf(server.id, mark);
    expect(events.map((e) => [e.type, e.payload.roleId])).toEqual([
      ["role.created", high.id],
      ["role.updated", low.id],
    ]);
    expect(events[1]?.payload.role).toMatchObject({ id: low.id, position: 2 });

    mark = await lastId(server.id);
    const edited = await roles.update(owner, server.id, high.id, { permissions: String(P.KICK_MEMBERS) });
    expect(await eventsOf(server.id, mark)).toMatchObject([
      { type: "role.updated", payload: { serverId: server.id, roleId: high.id, role: edited } },
    ]);
    mark = await lastId(server.id);
    await roles.delete(owner, server.id, high.id);
    expect((await eventsOf(server.id, mark)).map((e) => e.payload)).toEqual([
      { serverId: server.id, roleId: high.id },
    ]);
  });

  it("channel events carry the channel with its overwrites; a folder's delete names every channel", async () => {
    const owner = user();
    const server = await servers.create(owner, { name: "Channels lab", description: "", public: true });
    let mark = await lastId(server.id);
    const folder = await channels.create(owner, server.id, {
      name: "folder",
      type: "folder",
      parentId: "",
      topic: "",
    });
    const child = await channels.create(owner, server.id, {
      name: "child",
      type: "text",
      parentId: folder.id,
      topic: "t",
    });
    const overwritten = await channels.setOverwrite(owner, child.id, {
      targetType: "role",
      targetId: server.id,
      allow: "0",
      deny: String(P.VIEW_CHANNEL),
    });
    const renamed = await channels.update(owner, child.id, { name: "kid" });
    const events = await eventsOf(server.id, mark);
    expect(events.map((e) => e.type)).toEqual([
      "channel.created",
      "channel.created",
      "channel.updated",
      "channel.updated",
    ]);
    expect(events[1]?.payload).toEqual({ serverId: server.id, channelId: child.id, channel: child });
    expect(events[2]?.payload.channel).toEqual(overwritten);
    expect(events[3]?.payload.channel).toEqual(renamed);
    expect(renamed.overwrites).toHaveLength(1);

    mark = await lastId(server.id);
    await channels.delete(owner, folder.id);
    expect((await eventsOf(server.id, mark)).map((e) => [e.type, e.payload])).toEqual([
      [
        "channel.deleted",
        { serverId: server.id, channelId: folder.id, deletedChannelIds: [folder.id, child.id] },
      ],
    ]);
  });

  it("member.left says why: left, kick or ban; a timeout's member.updated carries the member", async () => {
    const owner = user();
    const [leaver, kicked, banned, quiet] = [user(), user(), user(), user()];
    const server = await servers.create(owner, { name: "Leavers lab", description: "", public: true });
    for (const member of [leaver, kicked, banned, quiet]) await servers.join(member, server.id);
    const mark = await lastId(server.id);
    await servers.leave(leaver, server.id);
    await servers.kick(owner, server.id, kicked.userId, "");
    await moderation.ban(owner, server.id, banned.userId, { reason: "", deleteMessageSeconds: 0 });
    await moderation.timeout(owner, server.id, quiet.userId, {
      until: new Date(Date.now() + 60_000).toISOString(),
      reason: "",
    });
    const left = (await eventsOf(server.id, mark)).filter((e) => e.type === "member.left");
    expect(left.map((e) => e.payload)).toEqual([
      { serverId: server.id, userId: leaver.userId, reason: "left" },
      { serverId: server.id, userId: kicked.userId, reason: "kick" },
      { serverId: server.id, userId: banned.userId, reason: "ban" },
    ]);
    const timedOut = (await eventsOf(server.id, mark)).at(-1);
    expect(timedOut).toMatchObject({
      type: "member.updated",
      payload: { userId: quiet.userId, member: { userId: quiet.userId, serverId: server.id } },
    });
    expect(typeof timedOut?.payload.timedOutUntil).toBe("string");
  });
});
