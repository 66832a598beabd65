import { openTestSchema, type TestSchema } from "@beep/db";
import { newId } from "@beep/ids";
import { createLogger } from "@beep/observability";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChannelsService } from "./channels.service.ts";
import { serversMigrations } from "./migrations/index.ts";
import { PERMISSIONS as Permission } from "./permissions/index.ts";
import { RolesService } from "./roles.service.ts";
import { AccessReader, type ServerLimits } from "./server-access.ts";
import type { ChannelView } from "./server-views.ts";
import { ServersRepository } from "./servers.repository.ts";
import { SERVERS_SCHEMA } from "./servers.schema-name.ts";
import { type Caller, ServersService } from "./servers.service.ts";
import type { ServersTables } from "./servers.tables.ts";
import { codeOf } from "./testing/error-code.ts";

const logger = createLogger({ service: "servers-test", level: "silent" });
const LIMITS: ServerLimits = { maxServersPerUser: 100, maxChannelsPerServer: 20, maxRolesPerServer: 20 };

let testSchema: TestSchema<ServersTables>;
let db: Kysely<ServersTables>;
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
  const repo = new ServersRepository();
  const access = new AccessReader(repo);
  servers = new ServersService({ db, repo, access, logger, limits: LIMITS });
  channels = new ChannelsService({ db, repo, access, limits: LIMITS });
  roles = new RolesService({ db, repo, access, limits: LIMITS });
}, 60_000);

afterAll(async () => {
  await testSchema?.close();
});

const user = (): Caller => ({ userId: newId() });
const VIEW = String(Permission.VIEW_CHANNEL);
const SEND = String(Permission.SEND_MESSAGES);
const sorted = (channel: ChannelView | undefined) =>
  [...(channel?.overwrites ?? [])].sort((a, b) =>
    `${a.targetType}${a.targetId}`.localeCompare(`${b.targetType}${b.targetId}`),
  );

async function setup() {
  const owner = user();
  const server = await servers.create(owner, { name: "Sync", description: "", public: true });
  const make = (name: string, type: string, parentId = "") =>
    channels.create(owner, server.id, { name, type, parentId, topic: "" });
  const folder = await make("staff", "folder");
  await channels.setOverwrite(owner, folder.id, {
    targetType: "role",
    targetId: server.id,
    allow: "0",
    deny: VIEW,
  });
  const get = async (id: string) => (await channels.list(owner, server.id)).find((c) => c.id === id);
  return { owner, server, folder, make, get };
}

describe("folder-synced overwrites", () => {
  it("a channel made in a folder copies its overwrites and follows the folder's edits while synced", async () => {
    const { owner, server, folder, make, get } = await setup();
    const a = await make("a", "text", folder.id);
    const b = await make("b", "text", folder.id);
    expect(a.permissionsSynced).toBe(true);
    expect(sorted(a)).toEqual(sorted(await get(folder.id)));

    const mod = await roles.create(owner, server.id, { name: "mod", color: 0, permissions: "0" });
    await channels.setOverwrite(owner, folder.id, {
      targetType: "role",
      targetId: mod.id,
      allow: VIEW,
      deny: "0",
    });
    expect(sorted(await get(a.id))).toEqual(sorted(await get(folder.id)));
    expect(sorted(await get(a.id))).toHaveLength(2);

    // Editing a child unsyncs it; the folder's next edits no longer reach it.
    await channels.setOverwrite(owner, b.id, {
      targetType: "role",
      targetId: mod.id,
      allow: VIEW,
      deny: SEND,
    });
    expect((await get(b.id))?.permissionsSynced).toBe(false);
    await channels.deleteOverwrite(owner, folder.id, { targetType: "role", targetId: mod.id });
    expect(sorted(await get(a.id))).toEqual(sorted(await get(folder.id)));
    expect((await get(a.id))?.overwrites).toHaveLength(1);
    expect((await get(b.id))?.overwrites.find((o) => o.targetId === mod.id)).toMatchObject({ deny: SEND });

    // syncChannelPermissions brings it back.
    const resynced = await channels.syncPermissions(owner, b.id);
    expect(resynced.permissionsSynced).toBe(true);
    expect(sorted(resynced)).toEqual(sorted(await get(folder.id)));
  });

  it("moving into a folder keeps the channel's own overwrites unless syncPermissions is asked", async () => {
    const { owner, server, folder, make, get } = await setup();
    const kept = await make("kept", "text");
    const synced = await make("synced", "text");
    await channels.setOverwrite(owner, kept.id, {
      targetType: "role",
      targetId: server.id,
      allow: SEND,
      deny: "0",
    });
    await channels.setOverwrite(owner, synced.id, {
      targetType: "role",
      targetId: server.id,
      allow: SEND,
      deny: "0",
    });
    const moved = await channels.update(owner, kept.id, { parentId: folder.id });
    expect(moved).toMatchObject({ parentId: folder.id, permissionsSynced: false });
    expect(moved.overwrites).toEqual([{ targetType: "role", targetId: server.id, allow: SEND, deny: "0" }]);
    const movedSynced = await channels.update(owner, synced.id, {
      parentId: folder.id,
      syncPermissions: true,
    });
    expect(movedSynced.permissionsSynced).toBe(true);
    expect(sorted(movedSynced)).toEqual(sorted(await get(folder.id)));
    // Out of the folder: it keeps what it has, no longer synced.
    const out = await channels.update(owner, synced.id, { parentId: "" });
    expect(out).toMatchObject({ parentId: "", permissionsSynced: false });
    expect(sorted(out)).toEqual(sorted(await get(folder.id)));
  });

  it("refuses syncing a top-level channel, and anyone without MANAGE_ROLES", async () => {
    const { owner, server, folder, make } = await setup();
    const top = await make("top", "text");
    expect(await codeOf(channels.syncPermissions(owner, top.id))).toBe("BAD_USER_INPUT");
    expect(await codeOf(channels.update(owner, top.id, { syncPermissions: true }))).toBe("BAD_USER_INPUT");
    const child = await make("child", "text", folder.id);
    await channels.setOverwrite(owner, folder.id, {
      targetType: "role",
      targetId: server.id,
      allow: "0",
      deny: "0",
    });
    const member = user();
    await servers.join(member, server.id);
    expect(await codeOf(channels.syncPermissions(member, child.id))).toBe("FORBIDDEN");
    expect(await codeOf(channels.syncPermissions(user(), child.id))).toBe("NOT_FOUND");
  });

  it("refuses a sync that changes the overwrite of a role at or above the caller's (ROLE-4)", async () => {
    const { owner, server, folder, make, get } = await setup();
    const high = await roles.create(owner, server.id, { name: "high", color: 0, permissions: "0" });
    // Created after high, so it goes in below it.
    const mods = await roles.create(owner, server.id, {
      name: "mods",
      color: 0,
      permissions: String(Permission.MANAGE_ROLES | Permission.VIEW_CHANNEL),
    });
    const low = await roles.create(owner, server.id, { name: "low", color: 0, permissions: "0" });
    const mod = user();
    await servers.join(mod, server.id);
    await roles.assign(owner, server.id, mods.id, mod.userId);
    await channels.setOverwrite(owner, folder.id, {
      targetType: "role",
      targetId: mods.id,
      allow: VIEW,
      deny: "0",
    });
    const child = await make("child", "text", folder.id);
    // The owner's own edit unsyncs the child; syncing it again would drop high's overwrite.
    await channels.setOverwrite(owner, child.id, {
      targetType: "role",
      targetId: high.id,
      allow: SEND,
      deny: "0",
    });
    expect(await codeOf(channels.syncPermissions(mod, child.id))).toBe("FORBIDDEN");
    expect(await codeOf(channels.update(mod, child.id, { syncPermissions: true }))).toBe("FORBIDDEN");
    expect(await get(child.id)).toMatchObject({ permissionsSynced: false });
    // Only a lower role's overwrite differs: the moderator may sync.
    await channels.deleteOverwrite(owner, child.id, { targetType: "role", targetId: high.id });
    await channels.setOverwrite(owner, child.id, {
      targetType: "role",
      targetId: low.id,
      allow: SEND,
      deny: "0",
    });
    expect(await channels.syncPermissions(mod, child.id)).toMatchObject({ permissionsSynced: true });
  });
});
