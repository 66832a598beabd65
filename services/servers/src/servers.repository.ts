import { type Kysely, sql } from "kysely";
import type {
  ChannelsTable,
  InvitesTable,
  RolesTable,
  ServersTable,
  ServersTables,
} from "./servers.tables.ts";

type Db = Kysely<ServersTables>;

/** A server row with its member count. */
export type ServerRow = Pick<ServersTable, "id" | "name" | "description" | "public" | "owner_id"> & {
  created_at: Date;
  member_count: number;
  picture_key: string | null;
  banner_key: string | null;
};
/** A role row as read. */
export type RoleRow = Pick<RolesTable, "id" | "server_id" | "name"> & {
  color: number;
  permissions: string;
  position: number;
};
/** A channel row as read. */
export type ChannelRow = Pick<ChannelsTable, "id" | "server_id" | "type" | "name" | "parent_id"> & {
  position: number;
  topic: string;
  permissions_synced: boolean;
};
/** An overwrite row as read. */
export interface OverwriteRow {
  channel_id: string;
  target_type: "role" | "member";
  target_id: string;
  allow: string;
  deny: string;
}
/** An invite row as read. */
export type InviteRow = Pick<InvitesTable, "code" | "server_id" | "creator_id"> & {
  created_at: Date;
  expires_at: Date | null;
  max_uses: number;
  uses: number;
  revoked_at: Date | null;
};

const SERVER_COLUMNS = [
  "s.id",
  "s.name",
  "s.description",
  "s.public",
  "s.owner_id",
  "s.created_at",
  "s.picture_key",
  "s.banner_key",
] as const;

/** `servers s` with its member count, as a correlated subquery. */
const withMemberCount = (db: Db) =>
  db
    .selectFrom("servers as s")
    .select(SERVER_COLUMNS)
    .select((eb) =>
      eb
        .selectFrom("members as mc")
        .whereRef("mc.server_id", "=", "s.id")
        .select(sql<number>`count(*)::int`.as("n"))
        .as("member_count"),
    );

/** SQL of the `servers` schema, and nothing else. Every method takes the connection or transaction to use. */
export class ServersRepository {
  /** The server, locked for update until the transaction ends (serialises a server's writes and limit counts). */
  async lockServer(db: Db, serverId: string): Promise<ServerRow | undefined> {
    await db.selectFrom("servers").select("id").where("id", "=", serverId).forUpdate().executeTakeFirst();
    return this.findServer(db, serverId);
  }

  /** The server with its member count. */
  async findServer(db: Db, serverId: string): Promise<ServerRow | undefined> {
    return withMemberCount(db).where("s.id", "=", serverId).executeTakeFirst() as Promise<
      ServerRow | undefined
    >;
  }

  /** The servers a user belongs to, oldest membership first. */
  async serversOf(db: Db, userId: string): Promise<ServerRow[]> {
    return withMemberCount(db)
      .innerJoin("members as m", "m.server_id", "s.id")
      .where("m.user_id", "=", userId)
      .orderBy("m.joined_at")
      .orderBy("s.id")
      .execute() as Promise<ServerRow[]>;
  }

  async countMemberships(db: Db, userId: string): Promise<number> {
    const row = await db
      .selectFrom("members")
      .select(sql<number>`count(*)::int`.as("n"))
      .where("user_id", "=", userId)
      .executeTakeFirstOrThrow();
    return row.n;
  }

  async insertServer(
    db: Db,
    row: { id: string; name: string; description: string; public: boolean; owner_id: string },
  ): Promise<void> {
    await db.insertInto("servers").values(row).execute();
  }

  async updateServer(
    db: Db,
    serverId: string,
    patch: Partial<{ name: string; description: string; public: boolean; owner_id: string }>,
  ): Promise<void> {
    if (Object.keys(patch).length === 0) return;
    await db.updateTable("servers").set(patch).where("id", "=", serverId).execute();
  }

  async deleteServer(db: Db, serverId: string): Promise<void> {
    await db.deleteFrom("servers").where("id", "=", serverId).execute();
  }

  async isMember(db: Db, serverId: string, userId: string): Promise<boolean> {
    const row = await db
      .selectFrom("members")
      .select("user_id")
      .where("server_id", "=", serverId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Adds a member; false if already one. */
  async insertMember(db: Db, serverId: string, userId: string): Promise<boolean> {
    const result = await db
      .insertInto("members")
      .values({ server_id: serverId, user_id: userId })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async deleteMember(db: Db, serverId: string, userId: string): Promise<boolean> {
    const result = await db
      .deleteFrom("members")
      .where("server_id", "=", serverId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Members with their role ids (besides @everyone), oldest first. */
  async listMembers(
    db: Db,
    serverId: string,
  ): Promise<Array<{ user_id: string; joined_at: Date; timed_out_until: Date | null; role_ids: string[] }>> {
    const rows = await db
      .selectFrom("members as m")
      .leftJoin("member_roles as mr", (join) =>
        join.onRef("mr.server_id", "=", "m.server_id").onRef("mr.user_id", "=", "m.user_id"),
      )
      .select([
        "m.user_id",
        "m.joined_at",
        "m.timed_out_until",
        sql<string[]>`coalesce(array_agg(mr.role_id::text) filter (where mr.role_id is not null), '{}')`.as(
          "role_ids",
        ),
      ])
      .where("m.server_id", "=", serverId)
      .groupBy(["m.user_id", "m.joined_at", "m.timed_out_until"])
      .orderBy("m.joined_at")
      .orderBy("m.user_id")
      .execute();
    return rows as Array<{
      user_id: string;
      joined_at: Date;
      timed_out_until: Date | null;
      role_ids: string[];
    }>;
  }

  /** The server's roles, highest first (ties: older first). */
  async roles(db: Db, serverId: string): Promise<RoleRow[]> {
    return db
      .selectFrom("roles")
      .select(["id", "server_id", "name", "color", "permissions", "position"])
      .where("server_id", "=", serverId)
      .orderBy("position", "desc")
      .orderBy("id")
      .execute();
  }

  /** Role ids a member holds. */
  async memberRoleIds(db: Db, serverId: string, userId: string): Promise<string[]> {
    const rows = await db
      .selectFrom("member_roles")
      .select("role_id")
      .where("server_id", "=", serverId)
      .where("user_id", "=", userId)
      .execute();
    return rows.map((row) => String(row.role_id));
  }

  async insertRole(
    db: Db,
    row: {
      id: string;
      server_id: string;
      name: string;
      color: number;
      permissions: string;
      position: number;
    },
  ): Promise<void> {
    await db.insertInto("roles").values(row).execute();
  }

  async updateRole(
    db: Db,
    roleId: string,
    patch: Partial<{ name: string; color: number; permissions: string; position: number }>,
  ): Promise<void> {
    if (Object.keys(patch).length === 0) return;
    await db.updateTable("roles").set(patch).where("id", "=", roleId).execute();
  }

  /** Moves every non-@everyone role at or above `from` up by one, making room at `from`. */
  async shiftRolesUp(db: Db, serverId: string, from: number): Promise<void> {
    await db
      .updateTable("roles")
      .set({ position: sql`position + 1` })
      .where("server_id", "=", serverId)
      .where("position", ">=", from)
      .where("id", "!=", serverId)
      .execute();
  }

  async deleteRole(db: Db, roleId: string): Promise<void> {
    await db
      .deleteFrom("overwrites")
      .where("target_type", "=", "role")
      .where("target_id", "=", roleId)
      .execute();
    await db.deleteFrom("roles").where("id", "=", roleId).execute();
  }

  async addMemberRole(db: Db, serverId: string, userId: string, roleId: string): Promise<void> {
    await db
      .insertInto("member_roles")
      .values({ server_id: serverId, user_id: userId, role_id: roleId })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  async removeMemberRole(db: Db, serverId: string, userId: string, roleId: string): Promise<void> {
    await db
      .deleteFrom("member_roles")
      .where("server_id", "=", serverId)
      .where("user_id", "=", userId)
      .where("role_id", "=", roleId)
      .execute();
  }

  /** The server's channels by position (ties: older first). */
  async channels(db: Db, serverId: string): Promise<ChannelRow[]> {
    return db
      .selectFrom("channels")
      .select(["id", "server_id", "type", "name", "parent_id", "position", "topic", "permissions_synced"])
      .where("server_id", "=", serverId)
      .orderBy("position")
      .orderBy("id")
      .execute();
  }

  async findChannel(db: Db, channelId: string): Promise<ChannelRow | undefined> {
    return db
      .selectFrom("channels")
      .select(["id", "server_id", "type", "name", "parent_id", "position", "topic", "permissions_synced"])
      .where("id", "=", channelId)
      .executeTakeFirst();
  }

  async countChannels(db: Db, serverId: string): Promise<number> {
    const row = await db
      .selectFrom("channels")
      .select(sql<number>`count(*)::int`.as("n"))
      .where("server_id", "=", serverId)
      .executeTakeFirstOrThrow();
    return row.n;
  }

  /** The position after the last channel of the server. */
  async nextChannelPosition(db: Db, serverId: string): Promise<number> {
    const row = await db
      .selectFrom("channels")
      .select(sql<number>`coalesce(max(position) + 1, 0)::int`.as("n"))
      .where("server_id", "=", serverId)
      .executeTakeFirstOrThrow();
    return row.n;
  }

  async insertChannel(
    db: Db,
    row: {
      id: string;
      server_id: string;
      type: "text" | "voice" | "folder";
      name: string;
      parent_id: string | null;
      position: number;
      topic: string;
    },
  ): Promise<void> {
    await db.insertInto("channels").values(row).execute();
  }

  async updateChannel(
    db: Db,
    channelId: string,
    patch: Partial<{ name: string; topic: string; position: number; parent_id: string | null }>,
  ): Promise<void> {
    if (Object.keys(patch).length === 0) return;
    await db.updateTable("channels").set(patch).where("id", "=", channelId).execute();
  }

  async hasChildren(db: Db, channelId: string): Promise<boolean> {
    const row = await db
      .selectFrom("channels")
      .select("id")
      .where("parent_id", "=", channelId)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Deletes a channel and (by cascade) a folder's channels; returns every deleted id. */
  async deleteChannel(db: Db, channelId: string): Promise<string[]> {
    const children = await db
      .selectFrom("channels")
      .select("id")
      .where("parent_id", "=", channelId)
      .execute();
    await db.deleteFrom("channels").where("id", "=", channelId).execute();
    return [channelId, ...children.map((row) => String(row.id))];
  }

  /** Every overwrite of the server's channels. */
  async overwritesOfServer(db: Db, serverId: string): Promise<OverwriteRow[]> {
    return db
      .selectFrom("overwrites as o")
      .innerJoin("channels as c", "c.id", "o.channel_id")
      .select(["o.channel_id", "o.target_type", "o.target_id", "o.allow", "o.deny"])
      .where("c.server_id", "=", serverId)
      .orderBy("o.target_type", "desc")
      .orderBy("o.target_id")
      .execute();
  }

  async upsertOverwrite(db: Db, row: OverwriteRow): Promise<void> {
    await db
      .insertInto("overwrites")
      .values(row)
      .onConflict((oc) =>
        oc
          .columns(["channel_id", "target_type", "target_id"])
          .doUpdateSet({ allow: row.allow, deny: row.deny }),
      )
      .execute();
  }

  async deleteOverwrite(
    db: Db,
    channelId: string,
    targetType: "role" | "member",
    targetId: string,
  ): Promise<boolean> {
    const result = await db
      .deleteFrom("overwrites")
      .where("channel_id", "=", channelId)
      .where("target_type", "=", targetType)
      .where("target_id", "=", targetId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Member overwrites go with the member. */
  async deleteMemberOverwrites(db: Db, serverId: string, userId: string): Promise<void> {
    await db
      .deleteFrom("overwrites")
      .where("target_type", "=", "member")
      .where("target_id", "=", userId)
      .where("channel_id", "in", db.selectFrom("channels").select("id").where("server_id", "=", serverId))
      .execute();
  }

  async insertInvite(
    db: Db,
    row: { code: string; server_id: string; creator_id: string; expires_at: Date | null; max_uses: number },
  ): Promise<InviteRow> {
    return db.insertInto("invites").values(row).returningAll().executeTakeFirstOrThrow();
  }

  async findInvite(db: Db, code: string): Promise<InviteRow | undefined> {
    return db.selectFrom("invites").selectAll().where("code", "=", code).executeTakeFirst();
  }

  async listInvites(db: Db, serverId: string): Promise<InviteRow[]> {
    return db
      .selectFrom("invites")
      .selectAll()
      .where("server_id", "=", serverId)
      .orderBy("created_at", "desc")
      .execute();
  }

  async revokeInvite(db: Db, code: string, now: Date): Promise<InviteRow | undefined> {
    return db
      .updateTable("invites")
      .set({ revoked_at: sql`coalesce(revoked_at, ${now})` })
      .where("code", "=", code)
      .returningAll()
      .executeTakeFirst();
  }

  /** Counts one use of a live invite in one statement (so max uses holds under races); undefined if not live. */
  async consumeInvite(db: Db, code: string, now: Date): Promise<InviteRow | undefined> {
    return db
      .updateTable("invites")
      .set({ uses: sql`uses + 1` })
      .where("code", "=", code)
      .where("revoked_at", "is", null)
      .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
      .where((eb) => eb.or([eb("max_uses", "=", 0), eb("uses", "<", eb.ref("max_uses"))]))
      .returningAll()
      .executeTakeFirst();
  }
}
