import { openTestSchema, type TestSchema } from "@beep/db";
import { newId } from "@beep/ids";
import { createLogger } from "@beep/observability";
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChannelsService } from "./channels.service.ts";
import { MemberDirectory } from "./member-directory.ts";
import { MemberListRepository } from "./member-list.repository.ts";
import { type MemberListPage, MemberListService } from "./member-list.service.ts";
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
const LIMITS: ServerLimits = { maxServersPerUser: 100, maxChannelsPerServer: 20, maxRolesPerServer: 20 };

let testSchema: TestSchema<ServersTables>;
let db: Kysely<ServersTables>;
let servers: ServersService;
let channels: ChannelsService;
let roles: RolesService;
let members: MemberListService;
let directory: MemberDirectory;

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
  members = new MemberListService({ db, repo, members: new MemberListRepository(), access });
  directory = new MemberDirectory(db, logger);
}, 60_000);

afterAll(async () => {
  await testSchema?.close();
});

const user = (): Caller => ({ userId: newId() });
const ids = (page: MemberListPage) => page.edges.map((edge) => edge.member.userId);
const named = (id: string, username: string, updatedAt: string, displayName = "") =>
  directory.apply({ type: "user.updated", payload: { user: { id, username, displayName, updatedAt } } });

/** Every page of a list, `first` at a time. */
async function all(list: (after: string) => Promise<MemberListPage>): Promise<string[]> {
  const seen: string[] = [];
  let after = "";
  for (let pages = 0; pages < 100; pages += 1) {
    const page = await list(after);
    seen.push(...ids(page));
    if (!page.hasNextPage) return seen;
    after = page.endCursor;
  }
  throw new Error("too many pages");
}

describe("server member list (SRV-7)", () => {
  it("pages members in join order with roles, names and timeouts; members only", async () => {
    const owner = user();
    const server = await servers.create(owner, { name: "Guild", description: "", public: true });
    const joined: string[] = [owner.userId];
    for (let i = 0; i < 6; i += 1) {
      const member = user();
      await servers.join(member, server.id);
      joined.push(member.userId);
    }
    const mod = await roles.create(owner, server.id, { name: "mod", color: 0, permissions: "0" });
    await roles.assign(owner, server.id, mod.id, joined[2] as string);
    const until = new Date(Date.now() + 3_600_000);
    await db
      .updateTable("members")
      .set({ timed_out_until: until })
      .where("server_id", "=", server.id)
      .where("user_id", "=", joined[3] as string)
      .execute();
    await named(joined[1] as string, "Ada_Lovelace", "2026-01-01T00:00:00Z", "Ada");

    const everyone = await all((after) =>
      members.serverMembers({ userId: joined[4] as string }, server.id, { first: 2, after, query: "" }),
    );
    expect(everyone).toEqual(joined);

    const page = await members.serverMembers(owner, server.id, { first: 5, after: "", query: "" });
    const byId = new Map(page.edges.map((edge) => [edge.member.userId, edge.member]));
    expect(byId.get(owner.userId)).toMatchObject({ owner: true, roles: [], timedOutUntil: "" });
    expect(byId.get(joined[1] as string)).toMatchObject({ username: "Ada_Lovelace", displayName: "Ada" });
    expect(byId.get(joined[2] as string)?.roles.map((role) => role.name)).toEqual(["mod"]);
    expect(byId.get(joined[3] as string)?.timedOutUntil).toBe(until.toISOString());

    expect(await codeOf(members.serverMembers(user(), server.id, { first: 2, after: "", query: "" }))).toBe(
      "NOT_FOUND",
    );
    for (const bad of [
      { first: 101, after: "", query: "" },
      { first: 2, after: "garbage!", query: "" },
      { first: 2, after: "", query: "x".repeat(33) },
    ]) {
      expect(await codeOf(members.serverMembers(owner, server.id, bad))).toBe("BAD_USER_INPUT");
    }
  });

  it("filters by username prefix, case-insensitively, with % and _ literal; newer names win", async () => {
    const owner = user();
    const server = await servers.create(owner, { name: "Names", description: "", public: true });
    const [ann, anna, bob] = [user(), user(), user()];
    for (const member of [ann, anna, bob]) await servers.join(member, server.id);
    await named(ann.userId, "ann_x", "2026-01-02T00:00:00Z");
    await named(anna.userId, "Annabel", "2026-01-02T00:00:00Z");
    await named(bob.userId, "bob", "2026-01-02T00:00:00Z");
    const search = async (query: string) =>
      ids(await members.serverMembers(owner, server.id, { first: 50, after: "", query }));
    expect(await search("AN")).toEqual([ann.userId, anna.userId]);
    expect(await search("ann_")).toEqual([ann.userId]);
    expect(await search("%")).toEqual([]);
    // A late, older event does not undo a rename; a newer one applies.
    await named(bob.userId, "robert", "2026-01-01T00:00:00Z");
    expect(await search("bob")).toEqual([bob.userId]);
    await named(bob.userId, "robert", "2026-01-03T00:00:00Z");
    expect(await search("rob")).toEqual([bob.userId]);
    await directory.apply({ type: "user.deleted", payload: { userId: bob.userId } });
    expect(await search("rob")).toEqual([]);
  });
});

describe("channel member list (CHAN-4)", () => {
  it("lists exactly who can view a private channel, across scan batches, paged", async () => {
    const owner = user();
    const server = await servers.create(owner, { name: "Big", description: "", public: true });
    // 1,200 members joined at the same instant (ties break by user id), inserted in bulk.
    const crowd = Array.from({ length: 1200 }, () => newId()).sort((a, b) =>
      BigInt(a) < BigInt(b) ? -1 : 1,
    );
    await sql`insert into servers.members (server_id, user_id)
              select ${server.id}::bigint, unnest(${sql.val(crowd)}::bigint[])`.execute(db);
    const staff = await roles.create(owner, server.id, { name: "staff", color: 0, permissions: "0" });
    const staffers = [crowd[10], crowd[700], crowd[1199]] as string[];
    for (const id of staffers) await roles.assign(owner, server.id, staff.id, id);
    const guest = crowd[900] as string;
    const secret = await channels.create(owner, server.id, {
      name: "staff-room",
      type: "text",
      parentId: "",
      topic: "",
    });
    const view = String(Permission.VIEW_CHANNEL);
    await channels.setOverwrite(owner, secret.id, {
      targetType: "role",
      targetId: server.id,
      allow: "0",
      deny: view,
    });
    await channels.setOverwrite(owner, secret.id, {
      targetType: "role",
      targetId: staff.id,
      allow: view,
      deny: "0",
    });
    await channels.setOverwrite(owner, secret.id, {
      targetType: "member",
      targetId: guest,
      allow: view,
      deny: "0",
    });
    // A staffer denied by a member overwrite does not see it.
    await channels.setOverwrite(owner, secret.id, {
      targetType: "member",
      targetId: crowd[700] as string,
      allow: "0",
      deny: view,
    });

    const viewers = await all((after) => members.channelMembers(owner, secret.id, { first: 2, after }));
    expect(viewers).toEqual([owner.userId, crowd[10], guest, crowd[1199]]);
    const general = (await channels.list(owner, server.id)).find((c) => c.name === "general");
    const first = await members.channelMembers(owner, general?.id ?? "", { first: 100, after: "" });
    expect(first.edges).toHaveLength(100);
    expect(first.hasNextPage).toBe(true);

    // Someone who cannot view the channel cannot list it, nor can a stranger.
    expect(
      await codeOf(
        members.channelMembers({ userId: crowd[0] as string }, secret.id, { first: 2, after: "" }),
      ),
    ).toBe("NOT_FOUND");
    expect(await codeOf(members.channelMembers(user(), secret.id, { first: 2, after: "" }))).toBe(
      "NOT_FOUND",
    );
    expect(await codeOf(members.channelMembers(owner, "123", { first: 2, after: "" }))).toBe("NOT_FOUND");
  });
});
