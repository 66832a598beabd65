import { type DatabaseHandle, openTestSchema, type TestSchema } from "@beep/db";
import { newId } from "@beep/ids";
import { createLogger } from "@beep/observability";
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChannelsService } from "./channels.service.ts";
import { serversMigrations } from "./migrations/index.ts";
import { ModerationRepository } from "./moderation.repository.ts";
import { ModerationService } from "./moderation.service.ts";
import { PERMISSIONS as Permission } from "./permissions/index.ts";
import { RolesService } from "./roles.service.ts";
import { AccessReader, type ServerLimits } from "./server-access.ts";
import { ServersRepository } from "./servers.repository.ts";
import { SERVERS_SCHEMA } from "./servers.schema-name.ts";
import { type Caller, ServersService } from "./servers.service.ts";
import type { ServersTables } from "./servers.tables.ts";
import { codeOf } from "./testing/error-code.ts";

const logger = createLogger({ service: "moderation-test", level: "silent" });
const LIMITS: ServerLimits = { maxServersPerUser: 10, maxChannelsPerServer: 10, maxRolesPerServer: 10 };

let testSchema: TestSchema<ServersTables>;
let handle: DatabaseHandle;
let db: Kysely<ServersTables>;
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
  db = testSchema.db;
  const repo = new ServersRepository();
  const access = new AccessReader(repo);
  servers = new ServersService({ db, repo, access, logger, limits: LIMITS });
  channels = new ChannelsService({ db, repo, access, limits: LIMITS });
  roles = new RolesService({ db, repo, access, limits: LIMITS });
  moderation = new ModerationService({ db, repo, moderation: new ModerationRepository(), access, logger });
}, 60_000);

afterAll(async () => {
  await testSchema?.close();
});

const user = (): Caller => ({ userId: newId() });

async function outbox(serverId: string): Promise<Array<{ type: string; payload: Record<string, unknown> }>> {
  const result = await sql<{ type: string; payload: Record<string, unknown> }>`
    select type, payload from servers.outbox where payload->>'serverId' = ${serverId} order by id`.execute(
    handle.db,
  );
  return result.rows;
}

/** A public server with an owner, a moderator holding `bits` in a role at position 1, and a plain member. */
async function community(bits: bigint) {
  const owner = user();
  const mod = user();
  const member = user();
  const server = await servers.create(owner, { name: "Moderated", description: "", public: true });
  await servers.join(mod, server.id);
  await servers.join(member, server.id);
  const role = await roles.create(owner, server.id, { name: "mods", color: 0, permissions: String(bits) });
  await roles.assign(owner, server.id, role.id, mod.userId);
  return { owner, mod, member, server, role };
}

const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

describe("bans", () => {
  it("removes the member, refuses public and invite rejoin, emits member.banned; unban lets them back", async () => {
    const { owner, mod, member, server } = await community(Permission.BAN_MEMBERS);
    const invite = await servers.createInvite(owner, server.id, { maxAgeSeconds: 0, maxUses: 0 });
    const ban = await moderation.ban(mod, server.id, member.userId, {
      reason: "spam",
      deleteMessageSeconds: 3600,
    });
    expect(ban).toMatchObject({ userId: member.userId, actorId: mod.userId, reason: "spam" });
    expect(await codeOf(channels.list(member, server.id))).toBe("NOT_FOUND");
    expect(await codeOf(servers.join(member, server.id))).toBe("FORBIDDEN");
    expect(await codeOf(servers.joinByInvite(member, invite.code))).toBe("FORBIDDEN");
    expect((await servers.listInvites(owner, server.id))[0]?.uses).toBe(0); // the refused join used nothing
    const banned = (await outbox(server.id)).find((e) => e.type === "member.banned");
    expect(banned?.payload).toMatchObject({ serverId: server.id, userId: member.userId });
    expect(typeof banned?.payload.deleteMessagesSince).toBe("string");
    expect((await moderation.listBans(mod, server.id)).map((b) => b.userId)).toEqual([member.userId]);

    await moderation.unban(mod, server.id, member.userId, "appeal accepted");
    expect(await moderation.listBans(mod, server.id)).toEqual([]);
    expect((await servers.joinByInvite(member, invite.code)).id).toBe(server.id);
    expect(await codeOf(moderation.unban(mod, server.id, member.userId, ""))).toBe("NOT_FOUND");
  });

  it("enforces BAN_MEMBERS, the hierarchy, the owner and oneself", async () => {
    const { owner, mod, member, server, role } = await community(Permission.BAN_MEMBERS);
    const peer = user();
    await servers.join(peer, server.id);
    await roles.assign(owner, server.id, role.id, peer.userId);
    const input = { reason: "", deleteMessageSeconds: 0 };
    expect(await codeOf(moderation.ban(member, server.id, mod.userId, input))).toBe("FORBIDDEN");
    expect(await codeOf(moderation.ban(mod, server.id, peer.userId, input))).toBe("FORBIDDEN"); // same role
    expect(await codeOf(moderation.ban(mod, server.id, owner.userId, input))).toBe("FORBIDDEN");
    expect(await codeOf(moderation.ban(mod, server.id, mod.userId, input))).toBe("BAD_USER_INPUT");
    expect(await codeOf(moderation.listBans(member, server.id))).toBe("FORBIDDEN");
    expect(
      await codeOf(moderation.ban(mod, server.id, member.userId, { ...input, reason: "x".repeat(513) })),
    ).toBe("BAD_USER_INPUT");
    expect(
      await codeOf(
        moderation.ban(mod, server.id, member.userId, { ...input, deleteMessageSeconds: 604_801 }),
      ),
    ).toBe("BAD_USER_INPUT");
    expect(await codeOf(moderation.ban(user(), server.id, member.userId, input))).toBe("NOT_FOUND");
    // The owner may ban anyone, including a moderator; a user who never joined can be banned too.
    await moderation.ban(owner, server.id, mod.userId, input);
    const stranger = user();
    await moderation.ban(owner, server.id, stranger.userId, input);
    expect(await codeOf(servers.join(stranger, server.id))).toBe("FORBIDDEN");
  });
});

describe("timeouts", () => {
  it("leaves a timed-out member only VIEW_CHANNEL and READ_MESSAGE_HISTORY until cleared", async () => {
    const { mod, member, server } = await community(Permission.MODERATE_MEMBERS);
    const general = (await channels.list(member, server.id))[0];
    if (!general) throw new Error("no #general");
    const kept = Permission.VIEW_CHANNEL | Permission.READ_MESSAGE_HISTORY;
    const before = await channels.myPermissions(member, server.id, general.id);
    expect(before & Permission.SEND_MESSAGES).toBe(Permission.SEND_MESSAGES);

    const result = await moderation.timeout(mod, server.id, member.userId, {
      until: inAnHour(),
      reason: "cool",
    });
    expect(result.timedOutUntil).not.toBe("");
    expect(await channels.myPermissions(member, server.id, general.id)).toBe(kept);
    expect(await channels.myPermissions(member, server.id, "")).toBe(kept);
    expect(await codeOf(servers.createInvite(member, server.id, { maxAgeSeconds: 0, maxUses: 0 }))).toBe(
      "FORBIDDEN",
    );
    expect((await outbox(server.id)).at(-1)).toMatchObject({
      type: "member.updated",
      payload: { serverId: server.id, userId: member.userId },
    });

    await moderation.clearTimeout(mod, server.id, member.userId, "");
    expect(await channels.myPermissions(member, server.id, general.id)).toBe(before);
    expect(await codeOf(servers.createInvite(member, server.id, { maxAgeSeconds: 0, maxUses: 0 }))).toBe(
      "OK",
    );
  });

  it("refuses a past or too-far end, a caller without MODERATE_MEMBERS, and members at or above the caller", async () => {
    const { owner, mod, member, server } = await community(Permission.MODERATE_MEMBERS);
    const far = new Date(Date.now() + 29 * 24 * 3600_000).toISOString();
    const past = new Date(Date.now() - 1000).toISOString();
    expect(await codeOf(moderation.timeout(mod, server.id, member.userId, { until: far, reason: "" }))).toBe(
      "BAD_USER_INPUT",
    );
    expect(await codeOf(moderation.timeout(mod, server.id, member.userId, { until: past, reason: "" }))).toBe(
      "BAD_USER_INPUT",
    );
    const until = inAnHour();
    expect(await codeOf(moderation.timeout(member, server.id, mod.userId, { until, reason: "" }))).toBe(
      "FORBIDDEN",
    );
    expect(await codeOf(moderation.timeout(mod, server.id, owner.userId, { until, reason: "" }))).toBe(
      "FORBIDDEN",
    );
    expect(await codeOf(moderation.timeout(mod, server.id, user().userId, { until, reason: "" }))).toBe(
      "NOT_FOUND",
    );
  });
});

describe("audit log", () => {
  it("records moderation and management writes with actor, target and reason, newest first, paged", async () => {
    const { owner, mod, member, server, role } = await community(
      Permission.BAN_MEMBERS | Permission.KICK_MEMBERS | Permission.VIEW_AUDIT_LOG,
    );
    await servers.update(owner, server.id, { name: "Renamed" });
    const channel = await channels.create(owner, server.id, {
      name: "news",
      type: "text",
      parentId: "",
      topic: "",
    });
    await channels.update(owner, channel.id, { topic: "updates" });
    await channels.setOverwrite(owner, channel.id, {
      targetType: "role",
      targetId: server.id,
      allow: "",
      deny: String(Permission.SEND_MESSAGES),
    });
    await channels.deleteOverwrite(owner, channel.id, { targetType: "role", targetId: server.id });
    await channels.delete(owner, channel.id);
    await roles.update(owner, server.id, role.id, { name: "moderators" });
    await roles.remove(owner, server.id, role.id, mod.userId);
    await roles.assign(owner, server.id, role.id, mod.userId);
    const invite = await servers.createInvite(owner, server.id, { maxAgeSeconds: 0, maxUses: 0 });
    await servers.revokeInvite(owner, server.id, invite.code);
    await servers.kick(mod, server.id, member.userId, "rude");
    await moderation.ban(mod, server.id, member.userId, { reason: "ban evasion", deleteMessageSeconds: 0 });
    await moderation.unban(owner, server.id, member.userId, "second chance");

    const page = await moderation.listAuditLog(mod, server.id, { before: "", limit: 100, action: "" });
    expect(page.entries.map((e) => e.action)).toEqual([
      "MEMBER_BAN_REMOVE",
      "MEMBER_BAN_ADD",
      "MEMBER_KICK",
      "INVITE_REVOKE",
      "INVITE_CREATE",
      "MEMBER_ROLE_ADD",
      "MEMBER_ROLE_REMOVE",
      "ROLE_UPDATE",
      "CHANNEL_DELETE",
      "CHANNEL_OVERWRITE_DELETE",
      "CHANNEL_OVERWRITE_SET",
      "CHANNEL_UPDATE",
      "CHANNEL_CREATE",
      "SERVER_UPDATE",
      "MEMBER_ROLE_ADD", // community(): the mod got the role
      "ROLE_CREATE",
    ]);
    expect(page.entries[1]).toMatchObject({
      actorId: mod.userId,
      targetType: "user",
      targetId: member.userId,
      reason: "ban evasion",
    });
    expect(page.entries[2]).toMatchObject({ actorId: mod.userId, targetId: member.userId, reason: "rude" });
    expect(JSON.parse(page.entries.at(-3)?.changesJson ?? "{}")).toEqual({ name: "Renamed" });

    const first = await moderation.listAuditLog(mod, server.id, { before: "", limit: 3, action: "" });
    const second = await moderation.listAuditLog(mod, server.id, {
      before: first.nextCursor,
      limit: 3,
      action: "",
    });
    expect([...first.entries, ...second.entries].map((e) => e.id)).toEqual(
      page.entries.slice(0, 6).map((e) => e.id),
    );
    const kicks = await moderation.listAuditLog(mod, server.id, {
      before: "",
      limit: 10,
      action: "MEMBER_KICK",
    });
    expect(kicks.entries.map((e) => e.reason)).toEqual(["rude"]);

    const plain = user();
    await servers.join(plain, server.id);
    expect(
      await codeOf(moderation.listAuditLog(plain, server.id, { before: "", limit: 10, action: "" })),
    ).toBe("FORBIDDEN");
    expect(
      await codeOf(moderation.listAuditLog(user(), server.id, { before: "", limit: 10, action: "" })),
    ).toBe("NOT_FOUND");
    expect(
      await codeOf(moderation.listAuditLog(mod, server.id, { before: "", limit: 101, action: "" })),
    ).toBe("BAD_USER_INPUT");
  });

  it("writes nothing when the change is refused (same transaction)", async () => {
    const { owner, member, server } = await community(0n);
    expect(await codeOf(servers.update(member, server.id, { name: "Hijacked" }))).toBe("FORBIDDEN");
    const page = await moderation.listAuditLog(owner, server.id, {
      before: "",
      limit: 100,
      action: "SERVER_UPDATE",
    });
    expect(page.entries).toEqual([]);
  });
});
