import { openTestSchema, type TestSchema } from "@beep/db";
import { newId } from "@beep/ids";
import { createLogger } from "@beep/observability";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChannelsService } from "./channels.service.ts";
import { serversMigrations } from "./migrations/index.ts";
import { PermissionCache } from "./permission-cache.ts";
import { PERMISSIONS as Permission } from "./permissions/index.ts";
import { PermissionsService } from "./permissions.service.ts";
import { RolesService } from "./roles.service.ts";
import { AccessReader, type ServerLimits } from "./server-access.ts";
import { ServersRepository } from "./servers.repository.ts";
import { SERVERS_SCHEMA } from "./servers.schema-name.ts";
import { type Caller, ServersService } from "./servers.service.ts";
import type { ServersTables } from "./servers.tables.ts";
import { codeOf } from "./testing/error-code.ts";

const logger = createLogger({ service: "servers-test", level: "silent" });
const LIMITS: ServerLimits = { maxServersPerUser: 10, maxChannelsPerServer: 10, maxRolesPerServer: 10 };

let testSchema: TestSchema<ServersTables>;
let db: Kysely<ServersTables>;
let servers: ServersService;
let channels: ChannelsService;
let roles: RolesService;
let permissions: PermissionsService;

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
  permissions = new PermissionsService(new PermissionCache({ db, repo, maxServers: 10 }));
}, 60_000);

afterAll(async () => {
  await testSchema?.close();
});

const user = (): Caller => ({ userId: newId() });
const SEND = String(Permission.SEND_MESSAGES);

/** Owner; a senior member above a junior who holds MANAGE_ROLES; a plain member; #general. */
async function hierarchy() {
  const [owner, senior, junior, member] = [user(), user(), user(), user()];
  const server = await servers.create(owner, { name: "Ranks", description: "", public: true });
  for (const who of [senior, junior, member]) await servers.join(who, server.id);
  // Each new role goes in at position 1, so the one created first ends up above.
  const seniorRole = await roles.create(owner, server.id, { name: "senior", color: 0, permissions: "" });
  const juniorRole = await roles.create(owner, server.id, {
    name: "junior",
    color: 0,
    permissions: String(Permission.MANAGE_ROLES),
  });
  await roles.assign(owner, server.id, seniorRole.id, senior.userId);
  await roles.assign(owner, server.id, juniorRole.id, junior.userId);
  const general = (await channels.list(owner, server.id))[0]?.id ?? "";
  return { owner, senior, junior, member, server, seniorRole, juniorRole, general };
}

describe("channel overwrites under the hierarchy (ROLE-4)", () => {
  it("a MANAGE_ROLES holder edits overwrites only of roles and members below them, or their own", async () => {
    const { owner, senior, junior, member, server, seniorRole, juniorRole, general } = await hierarchy();
    const set = (targetType: string, targetId: string) =>
      codeOf(channels.setOverwrite(junior, general, { targetType, targetId, allow: "", deny: SEND }));

    expect(await set("role", seniorRole.id)).toBe("FORBIDDEN");
    expect(await set("role", juniorRole.id)).toBe("FORBIDDEN");
    expect(await set("member", senior.userId)).toBe("FORBIDDEN");
    expect(await set("member", owner.userId)).toBe("FORBIDDEN");
    expect(await channels.list(owner, server.id)).toMatchObject([{ id: general, overwrites: [] }]);

    expect(await set("member", member.userId)).toBe("OK");
    // Last: denying @everyone SEND_MESSAGES takes it from the junior too, who then may not hand it out.
    expect(await set("role", server.id)).toBe("OK");
    expect(
      await codeOf(
        channels.setOverwrite(junior, general, {
          targetType: "member",
          targetId: junior.userId,
          allow: "",
          deny: "",
        }),
      ),
    ).toBe("OK");
    // The owner still manages anyone's.
    expect(
      await codeOf(
        channels.setOverwrite(owner, general, {
          targetType: "role",
          targetId: seniorRole.id,
          allow: "",
          deny: SEND,
        }),
      ),
    ).toBe("OK");
  });

  it("nor removes one of a role or member at or above them", async () => {
    const { owner, senior, junior, server, seniorRole, general } = await hierarchy();
    for (const [targetType, targetId] of [
      ["role", seniorRole.id],
      ["member", senior.userId],
    ] as const) {
      await channels.setOverwrite(owner, general, { targetType, targetId, allow: "", deny: SEND });
      expect(await codeOf(channels.deleteOverwrite(junior, general, { targetType, targetId }))).toBe(
        "FORBIDDEN",
      );
    }
    const [channel] = await channels.list(owner, server.id);
    expect(channel?.overwrites.map((o) => o.targetId).sort()).toEqual([seniorRole.id, senior.userId].sort());
  });

  it("a dry-run of an overwrite the caller may not set is refused the same way", async () => {
    const { senior, junior, member, server, seniorRole, general } = await hierarchy();
    const dryRun = (targetType: string, targetId: string) =>
      codeOf(
        permissions.dryRunOverwrite(junior, {
          serverId: server.id,
          channelId: general,
          targetType,
          targetId,
          allow: "",
          deny: SEND,
        }),
      );
    expect(await dryRun("role", seniorRole.id)).toBe("FORBIDDEN");
    expect(await dryRun("member", senior.userId)).toBe("FORBIDDEN");
    expect(await dryRun("role", server.id)).toBe("OK");
    expect(await dryRun("member", member.userId)).toBe("OK");
  });
});

describe("folders the caller cannot see (ROLE-5)", () => {
  it("are NOT_FOUND as the parent of a new or moved channel, and nothing is written", async () => {
    const owner = user();
    const manager = user();
    const server = await servers.create(owner, { name: "Folders", description: "", public: true });
    await servers.join(manager, server.id);
    const managers = await roles.create(owner, server.id, {
      name: "managers",
      color: 0,
      permissions: String(Permission.MANAGE_CHANNELS),
    });
    await roles.assign(owner, server.id, managers.id, manager.userId);
    const hidden = await channels.create(owner, server.id, {
      name: "hidden",
      type: "folder",
      parentId: "",
      topic: "",
    });
    await channels.setOverwrite(owner, hidden.id, {
      targetType: "role",
      targetId: server.id,
      allow: "",
      deny: String(Permission.VIEW_CHANNEL),
    });
    const general = (await channels.list(owner, server.id)).find((c) => c.name === "general");

    expect(
      await codeOf(
        channels.create(manager, server.id, { name: "x", type: "text", parentId: hidden.id, topic: "" }),
      ),
    ).toBe("NOT_FOUND");
    expect(await codeOf(channels.update(manager, general?.id ?? "", { parentId: hidden.id }))).toBe(
      "NOT_FOUND",
    );
    expect((await channels.list(owner, server.id)).map((c) => [c.name, c.parentId])).toEqual([
      ["general", ""],
      ["hidden", ""],
    ]);

    // Once they may view it, they may use it.
    await channels.setOverwrite(owner, hidden.id, {
      targetType: "role",
      targetId: managers.id,
      allow: String(Permission.VIEW_CHANNEL),
      deny: "",
    });
    expect(await channels.update(manager, general?.id ?? "", { parentId: hidden.id })).toMatchObject({
      parentId: hidden.id,
    });
  });
});

describe("deleting a folder (CHAN-2, ROLE-5)", () => {
  it("is refused while it holds a channel the caller cannot manage, and deletes nothing", async () => {
    const owner = user();
    const manager = user();
    const server = await servers.create(owner, { name: "Folder delete", description: "", public: true });
    await servers.join(manager, server.id);
    const managers = await roles.create(owner, server.id, {
      name: "managers",
      color: 0,
      permissions: String(Permission.MANAGE_CHANNELS),
    });
    await roles.assign(owner, server.id, managers.id, manager.userId);
    const folder = await channels.create(owner, server.id, {
      name: "f",
      type: "folder",
      parentId: "",
      topic: "",
    });
    const open = await channels.create(owner, server.id, {
      name: "open",
      type: "text",
      parentId: folder.id,
      topic: "",
    });
    const hidden = await channels.create(owner, server.id, {
      name: "hidden",
      type: "text",
      parentId: folder.id,
      topic: "",
    });
    await channels.setOverwrite(owner, hidden.id, {
      targetType: "role",
      targetId: server.id,
      allow: "",
      deny: String(Permission.VIEW_CHANNEL),
    });
    const names = async () => (await channels.list(owner, server.id)).map((c) => c.name);
    const before = await names();

    expect(await codeOf(channels.delete(manager, folder.id))).toBe("FORBIDDEN");
    expect(await names()).toEqual(before);

    // Managing every channel inside, they may.
    await channels.setOverwrite(owner, hidden.id, {
      targetType: "role",
      targetId: managers.id,
      allow: String(Permission.VIEW_CHANNEL),
      deny: "",
    });
    expect((await channels.delete(manager, folder.id)).sort()).toEqual(
      [folder.id, open.id, hidden.id].sort(),
    );
  });
});
