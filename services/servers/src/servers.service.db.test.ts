import { type DatabaseHandle, openTestSchema, type TestSchema } from "@beep/db";
import { newId } from "@beep/ids";
import { createLogger } from "@beep/observability";
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChannelsService } from "./channels.service.ts";
import { serversMigrations } from "./migrations/index.ts";
import { PERMISSIONS as Permission } from "./permissions/index.ts";
import { RolesService } from "./roles.service.ts";
import { AccessReader, type ServerLimits } from "./server-access.ts";
import { ServersRepository } from "./servers.repository.ts";
import { SERVERS_SCHEMA } from "./servers.schema-name.ts";
import { type Caller, ServersService } from "./servers.service.ts";
import type { ServersTables } from "./servers.tables.ts";
import { codeOf } from "./testing/error-code.ts";

const logger = createLogger({ service: "servers-test", level: "silent" });
const LIMITS: ServerLimits = { maxServersPerUser: 3, maxChannelsPerServer: 4, maxRolesPerServer: 3 };

let testSchema: TestSchema<ServersTables>;
let handle: DatabaseHandle;
let db: Kysely<ServersTables>;
let clock = new Date();
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
  const repo = new ServersRepository();
  const access = new AccessReader(repo);
  servers = new ServersService({ db, repo, access, logger, limits: LIMITS, now: () => clock });
  channels = new ChannelsService({ db, repo, access, limits: LIMITS });
  roles = new RolesService({ db, repo, access, limits: LIMITS });
}, 60_000);

afterAll(async () => {
  await testSchema?.close();
});

const user = (): Caller => ({ userId: newId() });

async function eventsOf(serverId: string): Promise<string[]> {
  const result = await sql<{ type: string }>`
    select type from servers.outbox where payload->>'serverId' = ${serverId} order by id`.execute(handle.db);
  return result.rows.map((row) => row.type);
}

describe("servers", () => {
  it("creates a server with its owner, @everyone and #general, and the events, in one go", async () => {
    const owner = user();
    const server = await servers.create(owner, { name: "  Ada's lab ", description: "", public: false });
    expect(server).toMatchObject({ name: "Ada's lab", ownerId: owner.userId, public: false, memberCount: 1 });
    const list = await channels.list(owner, server.id);
    expect(list.map((c) => [c.name, c.type])).toEqual([["general", "text"]]);
    const everyone = (await roles.list(owner, server.id)).find((r) => r.everyone);
    expect(everyone).toMatchObject({ id: server.id, name: "@everyone", position: 0 });
    const bits = BigInt(everyone?.permissions ?? "0");
    expect(bits & Permission.VIEW_CHANNEL).toBe(Permission.VIEW_CHANNEL);
    expect(bits & Permission.CREATE_INSTANT_INVITE).toBe(0n); // private: admins invite (SRV-4)
    expect(bits & Permission.MANAGE_CHANNELS).toBe(0n);
    expect(await eventsOf(server.id)).toEqual(["server.created", "member.joined"]);
    expect((await servers.listMine(owner)).map((s) => s.id)).toContain(server.id);
  });

  it("refuses bad names and more servers than the per-user limit", async () => {
    const owner = user();
    expect(await codeOf(servers.create(owner, { name: "x", description: "", public: true }))).toBe(
      "BAD_USER_INPUT",
    );
    for (let i = 0; i < LIMITS.maxServersPerUser; i += 1) {
      await servers.create(owner, { name: `server ${i}`, description: "", public: true });
    }
    expect(await codeOf(servers.create(owner, { name: "one more", description: "", public: true }))).toBe(
      "LIMIT_EXCEEDED",
    );
  });

  it("lets anyone join a public server but hides a private one, and a plain member creates nothing", async () => {
    const owner = user();
    const member = user();
    const open = await servers.create(owner, { name: "Open", description: "", public: true });
    const closed = await servers.create(owner, { name: "Closed", description: "", public: false });
    expect((await servers.join(member, open.id)).memberCount).toBe(2);
    expect(await codeOf(servers.join(member, closed.id))).toBe("NOT_FOUND");
    expect(await codeOf(servers.get(member, closed.id))).toBe("NOT_FOUND");
    expect(
      await codeOf(channels.create(member, open.id, { name: "x", type: "text", parentId: "", topic: "" })),
    ).toBe("FORBIDDEN");
    expect(await codeOf(roles.create(member, open.id, { name: "mod", color: 0, permissions: "" }))).toBe(
      "FORBIDDEN",
    );
    expect(await codeOf(servers.update(member, open.id, { name: "Mine now" }))).toBe("FORBIDDEN");
    expect(await codeOf(servers.delete(member, open.id))).toBe("FORBIDDEN");
    expect((await servers.get(owner, open.id)).name).toBe("Open");
    expect(await codeOf(servers.leave(owner, open.id))).toBe("FORBIDDEN");
    await servers.leave(member, open.id);
    expect(await codeOf(channels.list(member, open.id))).toBe("NOT_FOUND");
  });

  it("answers NOT_FOUND to a non-member for every id-taking call, and changes nothing", async () => {
    const owner = user();
    const stranger = user();
    const server = await servers.create(owner, { name: "Secret", description: "d", public: false });
    const [general] = await channels.list(owner, server.id);
    const channelId = general?.id ?? "";
    const calls: Array<() => Promise<unknown>> = [
      () => servers.get(stranger, server.id),
      () => servers.update(stranger, server.id, { name: "pwned" }),
      () => servers.delete(stranger, server.id),
      () => servers.transferOwnership(stranger, server.id, stranger.userId),
      () => servers.leave(stranger, server.id),
      () => servers.listMembers(stranger, server.id),
      () => servers.kick(stranger, server.id, owner.userId, ""),
      () => servers.createInvite(stranger, server.id, { maxAgeSeconds: 0, maxUses: 0 }),
      () => servers.listInvites(stranger, server.id),
      () => channels.create(stranger, server.id, { name: "x", type: "text", parentId: "", topic: "" }),
      () => channels.update(stranger, channelId, { name: "pwned" }),
      () => channels.delete(stranger, channelId),
      () => channels.list(stranger, server.id),
      () => channels.myPermissions(stranger, server.id, channelId),
      () =>
        channels.setOverwrite(stranger, channelId, {
          targetType: "member",
          targetId: stranger.userId,
          allow: "1024",
          deny: "",
        }),
      () => roles.list(stranger, server.id),
      () => roles.create(stranger, server.id, { name: "r", color: 0, permissions: "" }),
      () => roles.update(stranger, server.id, server.id, { permissions: String(Permission.ADMINISTRATOR) }),
      () => roles.delete(stranger, server.id, server.id),
      () => roles.assign(stranger, server.id, server.id, stranger.userId),
    ];
    for (const call of calls) expect(await codeOf(call())).toBe("NOT_FOUND");
    expect(await codeOf(servers.get(stranger, "not-an-id"))).toBe("NOT_FOUND");
    const after = await servers.get(owner, server.id);
    expect(after).toMatchObject({ name: "Secret", ownerId: owner.userId, memberCount: 1 });
    expect((await channels.list(owner, server.id)).map((c) => [c.name, c.overwrites.length])).toEqual([
      ["general", 0],
    ]);
    expect(await roles.list(owner, server.id)).toHaveLength(1);
  });

  it("joins a private server by invite; expired, used-up and revoked invites are NOT_FOUND", async () => {
    const owner = user();
    const server = await servers.create(owner, { name: "Private", description: "", public: false });
    const [a, b, c, d] = [user(), user(), user(), user()];
    const once = await servers.createInvite(owner, server.id, { maxAgeSeconds: 0, maxUses: 1 });
    expect((await servers.joinByInvite(a, once.code)).id).toBe(server.id);
    // A member may not invite on a private server without CREATE_INSTANT_INVITE.
    expect(await codeOf(servers.createInvite(a, server.id, { maxAgeSeconds: 0, maxUses: 0 }))).toBe(
      "FORBIDDEN",
    );
    expect(await codeOf(servers.joinByInvite(b, once.code))).toBe("NOT_FOUND");
    const hour = await servers.createInvite(owner, server.id, { maxAgeSeconds: 3600, maxUses: 0 });
    const saved = clock;
    clock = new Date(saved.getTime() + 3601_000);
    expect(await codeOf(servers.joinByInvite(b, hour.code))).toBe("NOT_FOUND");
    clock = saved;
    const revoked = await servers.createInvite(owner, server.id, { maxAgeSeconds: 0, maxUses: 0 });
    expect((await servers.revokeInvite(owner, server.id, revoked.code)).revoked).toBe(true);
    expect(await codeOf(servers.joinByInvite(c, revoked.code))).toBe("NOT_FOUND");
    expect(await codeOf(servers.joinByInvite(d, "nope"))).toBe("NOT_FOUND");
    expect((await servers.listMembers(owner, server.id)).map((m) => m.userId).sort()).toEqual(
      [owner.userId, a.userId].sort(),
    );
    expect((await servers.listInvites(owner, server.id)).find((i) => i.code === once.code)?.uses).toBe(1);
  });

  it("hides a private channel from @everyone and shows it to a role holder", async () => {
    const owner = user();
    const [member, trusted] = [user(), user()];
    const server = await servers.create(owner, { name: "Guild", description: "", public: true });
    await servers.join(member, server.id);
    await servers.join(trusted, server.id);
    const staff = await channels.create(owner, server.id, {
      name: "staff",
      type: "text",
      parentId: "",
      topic: "",
    });
    const role = await roles.create(owner, server.id, { name: "staff", color: 0xff0000, permissions: "" });
    await channels.setOverwrite(owner, staff.id, {
      targetType: "role",
      targetId: server.id,
      allow: "",
      deny: String(Permission.VIEW_CHANNEL),
    });
    await channels.setOverwrite(owner, staff.id, {
      targetType: "role",
      targetId: role.id,
      allow: String(Permission.VIEW_CHANNEL),
      deny: "",
    });
    await roles.assign(owner, server.id, role.id, trusted.userId);
    expect((await channels.list(member, server.id)).map((c) => c.name)).toEqual(["general"]);
    expect((await channels.list(trusted, server.id)).map((c) => c.name)).toEqual(["general", "staff"]);
    expect(await codeOf(channels.update(member, staff.id, { name: "x" }))).toBe("NOT_FOUND");
    expect(await codeOf(channels.myPermissions(member, server.id, staff.id))).toBe("NOT_FOUND");
    const bits = BigInt(await channels.myPermissions(trusted, server.id, staff.id));
    expect(bits & Permission.VIEW_CHANNEL).toBe(Permission.VIEW_CHANNEL);
    await roles.remove(owner, server.id, role.id, trusted.userId);
    expect((await channels.list(trusted, server.id)).map((c) => c.name)).toEqual(["general"]);
  });

  it("enforces the hierarchy and never lets anyone grant bits they lack", async () => {
    const owner = user();
    const [mod, member] = [user(), user()];
    const server = await servers.create(owner, { name: "Ranks", description: "", public: true });
    await servers.join(mod, server.id);
    await servers.join(member, server.id);
    const modRole = await roles.create(owner, server.id, {
      name: "mod",
      color: 0,
      permissions: String(Permission.MANAGE_ROLES | Permission.KICK_MEMBERS),
    });
    await roles.assign(owner, server.id, modRole.id, mod.userId);
    // The mod cannot raise their own role or grant ADMINISTRATOR.
    expect(await codeOf(roles.update(mod, server.id, modRole.id, { name: "boss" }))).toBe("FORBIDDEN");
    expect(
      await codeOf(
        roles.create(mod, server.id, { name: "x", color: 0, permissions: String(Permission.ADMINISTRATOR) }),
      ),
    ).toBe("FORBIDDEN");
    const helper = await roles.create(mod, server.id, {
      name: "helper",
      color: 0,
      permissions: String(Permission.KICK_MEMBERS),
    });
    expect(helper.position).toBe(1);
    expect((await roles.list(owner, server.id)).map((r) => r.name)).toEqual(["mod", "helper", "@everyone"]);
    expect(await codeOf(roles.create(owner, server.id, { name: "third", color: 0, permissions: "" }))).toBe(
      "LIMIT_EXCEEDED",
    );
    await roles.assign(mod, server.id, helper.id, member.userId);
    // A helper cannot kick the mod above them; the mod can kick the helper; nobody kicks the owner.
    expect(await codeOf(servers.kick(member, server.id, mod.userId, ""))).toBe("FORBIDDEN");
    expect(await codeOf(servers.kick(mod, server.id, owner.userId, ""))).toBe("FORBIDDEN");
    await servers.kick(mod, server.id, member.userId, "spam");
    expect(await codeOf(channels.list(member, server.id))).toBe("NOT_FOUND");
    expect(await eventsOf(server.id)).toContain("member.left");
  });

  it("nests channels one level in folders; deleting a folder deletes its channels; limits channels", async () => {
    const owner = user();
    const server = await servers.create(owner, { name: "Tree", description: "", public: false });
    const folder = await channels.create(owner, server.id, {
      name: "Talk",
      type: "folder",
      parentId: "",
      topic: "",
    });
    const inside = await channels.create(owner, server.id, {
      name: "chat",
      type: "text",
      parentId: folder.id,
      topic: "hi",
    });
    expect(inside.parentId).toBe(folder.id);
    expect(
      await codeOf(
        channels.create(owner, server.id, { name: "sub", type: "folder", parentId: folder.id, topic: "" }),
      ),
    ).toBe("BAD_USER_INPUT");
    const moved = await channels.update(owner, inside.id, { parentId: "", topic: "new topic", position: 7 });
    expect(moved).toMatchObject({ parentId: "", topic: "new topic", position: 7 });
    await channels.update(owner, inside.id, { parentId: folder.id });
    expect(
      await codeOf(channels.create(owner, server.id, { name: "v", type: "voice", parentId: "", topic: "" })),
    ).toBe("OK");
    expect(
      await codeOf(channels.create(owner, server.id, { name: "w", type: "text", parentId: "", topic: "" })),
    ).toBe("LIMIT_EXCEEDED");
    expect((await channels.delete(owner, folder.id)).sort()).toEqual([folder.id, inside.id].sort());
    expect((await channels.list(owner, server.id)).map((c) => c.name)).toEqual(["general", "v"]);
  });

  it("transfers ownership to a member, then only the new owner may delete the server", async () => {
    const owner = user();
    const heir = user();
    const server = await servers.create(owner, { name: "Heritage", description: "", public: true });
    expect(await codeOf(servers.transferOwnership(owner, server.id, heir.userId))).toBe("NOT_FOUND");
    await servers.join(heir, server.id);
    expect((await servers.transferOwnership(owner, server.id, heir.userId)).ownerId).toBe(heir.userId);
    expect(await codeOf(servers.delete(owner, server.id))).toBe("FORBIDDEN");
    await servers.leave(owner, server.id);
    await servers.delete(heir, server.id);
    expect(await codeOf(servers.get(heir, server.id))).toBe("NOT_FOUND");
    expect(await eventsOf(server.id)).toContain("server.deleted");
  });
});
