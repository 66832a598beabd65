import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BlobStore, FileBlobStore } from "@beep/blob";
import { type DatabaseHandle, openTestSchema, type TestSchema } from "@beep/db";
import { newId } from "@beep/ids";
import { createLogger } from "@beep/observability";
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChannelsService } from "./channels.service.ts";
import { DiscoveryRepository } from "./discovery.repository.ts";
import { DiscoveryService } from "./discovery.service.ts";
import { InAppInvitesService } from "./in-app-invites.service.ts";
import { MemberDirectory } from "./member-directory.ts";
import { MemberListRepository } from "./member-list.repository.ts";
import { MemberListService } from "./member-list.service.ts";
import { serversMigrations } from "./migrations/index.ts";
import { ModerationRepository } from "./moderation.repository.ts";
import { ModerationService } from "./moderation.service.ts";
import { PERMISSIONS as Permission } from "./permissions/index.ts";
import { RolesService } from "./roles.service.ts";
import { AccessReader, type ServerLimits } from "./server-access.ts";
import { ServerBlobCleanup } from "./server-blob-cleanup.ts";
import { ServerPicturesService, serverBlobPrefix } from "./server-pictures.service.ts";
import { ServersRepository } from "./servers.repository.ts";
import { SERVERS_SCHEMA } from "./servers.schema-name.ts";
import { type Caller, ServersService } from "./servers.service.ts";
import type { ServersTables } from "./servers.tables.ts";
import { codeOf } from "./testing/error-code.ts";

const logger = createLogger({ service: "servers-test", level: "silent" });
const LIMITS: ServerLimits = { maxServersPerUser: 100, maxChannelsPerServer: 20, maxRolesPerServer: 20 };
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(16, 3),
]);

/**
 * Tables that may keep a deleted server's ids, and why: the outbox is the event log (it carries
 * `server.deleted` itself, published and pruned by the relay); the migration tables hold no data;
 * user_directory is per user, not per server.
 */
const NOT_SERVER_DATA = new Set(["outbox", "kysely_migration", "kysely_migration_lock", "user_directory"]);

let testSchema: TestSchema<ServersTables>;
let handle: DatabaseHandle;
let db: Kysely<ServersTables>;
let dir: string;
let blobs: BlobStore;
let servers: ServersService;
let channels: ChannelsService;
let roles: RolesService;
let moderation: ModerationService;
let members: MemberListService;
let invites: InAppInvitesService;
let pictures: ServerPicturesService;
let discovery: DiscoveryService;

beforeAll(async () => {
  testSchema = await openTestSchema<ServersTables>({
    schema: SERVERS_SCHEMA,
    migrations: serversMigrations,
    logger,
  });
  handle = testSchema.handle;
  db = testSchema.db;
  dir = mkdtempSync(join(tmpdir(), "beep-server-deletion-"));
  blobs = await FileBlobStore.open(dir);
  const repo = new ServersRepository();
  const access = new AccessReader(repo);
  servers = new ServersService({ db, repo, access, logger, limits: LIMITS });
  channels = new ChannelsService({ db, repo, access, limits: LIMITS });
  roles = new RolesService({ db, repo, access, limits: LIMITS });
  moderation = new ModerationService({ db, repo, moderation: new ModerationRepository(), access, logger });
  members = new MemberListService({ db, repo, members: new MemberListRepository(), access });
  invites = new InAppInvitesService({ db, repo, access, servers });
  pictures = new ServerPicturesService({ db, repo, access, blobs, maxPictureBytes: 1024, logger });
  discovery = new DiscoveryService({ db, discovery: new DiscoveryRepository() });
}, 60_000);

afterAll(async () => {
  await blobs?.close();
  await testSchema?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const user = (): Caller => ({ userId: newId() });

/** Every table of the schema (found in information_schema, so a future table is covered) with rows naming an id. */
async function tablesNaming(ids: string[]): Promise<Record<string, number>> {
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
     where table_schema = ${SERVERS_SCHEMA} and table_type = 'BASE TABLE' order by table_name`.execute(
    handle.db,
  );
  // Why the whole row as JSON: any column (server_id, channel_id, target_id, code, …) counts.
  const pattern = `(^|[^0-9])(${ids.map((id) => id.replace(/[^A-Za-z0-9_-]/g, "")).join("|")})([^0-9]|$)`;
  const found: Record<string, number> = {};
  for (const { table_name: table } of tables.rows) {
    if (NOT_SERVER_DATA.has(table)) continue;
    const result = await sql<{ n: number }>`
      select count(*)::int as n from ${sql.table(`${SERVERS_SCHEMA}.${table}`)} t
       where row_to_json(t)::text ~ ${pattern}`.execute(handle.db);
    const n = result.rows[0]?.n ?? 0;
    if (n > 0) found[table] = n;
  }
  return found;
}

describe("deleting a server leaves nothing readable", () => {
  it("removes the rows of every table, the blobs, and answers NOT_FOUND to every id-taking call", async () => {
    const owner = user();
    const member = user();
    const banned = user();
    const guest = user();
    const server = await servers.create(owner, {
      name: "Doomed",
      description: "to be deleted",
      public: true,
    });
    const other = await servers.create(owner, { name: "Survivor", description: "stays", public: true });
    for (const who of [member, banned]) await servers.join(who, server.id);
    const folder = await channels.create(owner, server.id, {
      name: "f",
      type: "folder",
      parentId: "",
      topic: "",
    });
    await channels.setOverwrite(owner, folder.id, {
      targetType: "member",
      targetId: member.userId,
      allow: String(Permission.VIEW_CHANNEL),
      deny: "0",
    });
    const child = await channels.create(owner, server.id, {
      name: "c",
      type: "text",
      parentId: folder.id,
      topic: "",
    });
    const role = await roles.create(owner, server.id, { name: "mod", color: 0, permissions: "0" });
    await roles.assign(owner, server.id, role.id, member.userId);
    await channels.setOverwrite(owner, child.id, {
      targetType: "role",
      targetId: role.id,
      allow: "0",
      deny: "0",
    });
    const invite = await servers.createInvite(owner, server.id, { maxAgeSeconds: 0, maxUses: 0 });
    const inApp = await invites.send(owner, server.id, guest.userId);
    await moderation.ban(owner, server.id, banned.userId, { reason: "spam", deleteMessageSeconds: 0 });
    await moderation.timeout(owner, server.id, member.userId, {
      until: new Date(Date.now() + 3_600_000).toISOString(),
      reason: "calm down",
    });
    await pictures.upload(owner, server.id, { kind: "picture", data: PNG, contentType: "image/png" });
    await pictures.upload(owner, server.id, { kind: "banner", data: PNG, contentType: "image/png" });
    await pictures.upload(owner, other.id, { kind: "picture", data: PNG, contentType: "image/png" });
    await new MemberDirectory(db, logger).apply({
      type: "user.created",
      payload: { user: { id: member.userId, username: "member", updatedAt: new Date().toISOString() } },
    });
    const allChannels = (await channels.list(owner, server.id)).map((c) => c.id);
    const ids = [server.id, ...allChannels, role.id, invite.code, inApp.code];

    // The detector sees the server everywhere it has data (so an empty answer below means something).
    const before = await tablesNaming(ids);
    for (const table of [
      "servers",
      "members",
      "roles",
      "member_roles",
      "channels",
      "overwrites",
      "invites",
      "in_app_invites",
      "bans",
      "audit_log",
    ]) {
      expect(before[table], table).toBeGreaterThan(0);
    }
    expect(await blobs.list(serverBlobPrefix(server.id))).toHaveLength(2);

    expect(await codeOf(servers.delete(member, server.id))).toBe("FORBIDDEN");
    await servers.delete(owner, server.id);
    const deleted = await sql<{ type: string; payload: Record<string, unknown> }>`
      select type, payload from servers.outbox where type = 'server.deleted' and payload->>'serverId' = ${server.id}`.execute(
      handle.db,
    );
    expect(deleted.rows).toHaveLength(1);
    const cleanup = new ServerBlobCleanup(blobs, logger);
    for (const event of deleted.rows) await cleanup.apply(event);

    expect(await tablesNaming(ids)).toEqual({});
    expect(await blobs.list(serverBlobPrefix(server.id))).toEqual([]);
    expect(await blobs.list(serverBlobPrefix(other.id))).toHaveLength(1); // nothing else goes
    expect((await servers.get(owner, other.id)).name).toBe("Survivor");

    const calls: Array<[string, () => Promise<unknown>]> = [
      ["get", () => servers.get(owner, server.id)],
      ["update", () => servers.update(owner, server.id, { name: "again" })],
      ["delete", () => servers.delete(owner, server.id)],
      ["join", () => servers.join(user(), server.id)],
      ["leave", () => servers.leave(member, server.id)],
      ["listMembers", () => servers.listMembers(owner, server.id)],
      ["kick", () => servers.kick(owner, server.id, member.userId, "")],
      ["createInvite", () => servers.createInvite(owner, server.id, { maxAgeSeconds: 0, maxUses: 0 })],
      ["listInvites", () => servers.listInvites(owner, server.id)],
      ["revokeInvite", () => servers.revokeInvite(owner, server.id, invite.code)],
      ["joinByInvite", () => servers.joinByInvite(user(), invite.code)],
      ["joinByInApp", () => servers.joinByInvite(guest, inApp.code)],
      ["transfer", () => servers.transferOwnership(owner, server.id, member.userId)],
      ["listChannels", () => channels.list(owner, server.id)],
      [
        "createChannel",
        () => channels.create(owner, server.id, { name: "x", type: "text", parentId: "", topic: "" }),
      ],
      ["updateChannel", () => channels.update(owner, child.id, { name: "x" })],
      ["deleteChannel", () => channels.delete(owner, child.id)],
      ["syncChannel", () => channels.syncPermissions(owner, child.id)],
      ["myPermissions", () => channels.myPermissions(owner, server.id, "")],
      ["listRoles", () => roles.list(owner, server.id)],
      ["updateRole", () => roles.update(owner, server.id, role.id, { name: "x" })],
      ["assignRole", () => roles.assign(owner, server.id, role.id, member.userId)],
      ["listBans", () => moderation.listBans(owner, server.id)],
      ["unban", () => moderation.unban(owner, server.id, banned.userId, "")],
      ["auditLog", () => moderation.listAuditLog(owner, server.id, { before: "", limit: 10, action: "" })],
      ["serverMembers", () => members.serverMembers(owner, server.id, { first: 10, after: "", query: "" })],
      ["channelMembers", () => members.channelMembers(owner, child.id, { first: 10, after: "" })],
      ["sendInvite", () => invites.send(owner, server.id, user().userId)],
      ["declineInvite", () => invites.decline(guest, inApp.code)],
      ["getPicture", () => pictures.get(owner, server.id, "picture")],
      ["removePicture", () => pictures.remove(owner, server.id, "picture")],
    ];
    for (const [name, call] of calls) expect([name, await codeOf(call())]).toEqual([name, "NOT_FOUND"]);
    expect(await invites.listMine(guest)).toEqual([]);
    expect((await servers.listMine(member)).map((s) => s.id)).toEqual([]);
    const found = await discovery.discover(owner, { query: "doomed", first: 10, after: "" });
    expect(found.edges).toEqual([]);
    // A failed call changed nothing: still no rows of the server anywhere.
    expect(await tablesNaming(ids)).toEqual({});
  });
});
