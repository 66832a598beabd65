import { BeepError } from "@beep/errors";
import { type Kysely, type RawBuilder, sql } from "kysely";
import { accessFromSnapshot, type PermissionCache, type ServerSnapshot } from "./permission-cache.ts";
import { channelPermissions, isId, Permission } from "./server-access.ts";
import type { ChannelRow, OverwriteRow, RoleRow } from "./servers.repository.ts";
import type { ServersTables } from "./servers.tables.ts";

/** Users one VisibleChannels call may ask about. */
export const VISIBLE_CHANNELS_MAX_USERS = 1_000;

/**
 * `= any($1::bigint[])`: one parameter whatever the number of ids (1000 users in many servers would
 * pass PostgreSQL's 65535 parameters as an `in` list).
 */
const anyOf = (ids: readonly string[]): RawBuilder<string> => sql<string>`any(${[...ids]}::bigint[])`;

/** One server a user belongs to, with the channels they hold VIEW_CHANNEL on (by position). */
export interface VisibleServer {
  serverId: string;
  channelIds: string[];
}

/** What one user may see. */
export interface UserVisibility {
  userId: string;
  servers: VisibleServer[];
}

/**
 * Who may see what, for the gateway's event stream. `fresh` reads the database in a fixed batch of six
 * queries whatever the number of users, servers or channels (memberships, servers, roles, member roles,
 * channels, overwrites), so a change the {@link PermissionCache} has not heard of yet is already seen;
 * otherwise one membership query and the cached per-server snapshots.
 */
export class VisibilityService {
  constructor(private readonly deps: { db: Kysely<ServersTables>; cache: PermissionCache }) {}

  async visibleChannels(userIds: readonly string[], fresh: boolean): Promise<UserVisibility[]> {
    if (userIds.length > VISIBLE_CHANNELS_MAX_USERS) {
      throw new BeepError("BAD_USER_INPUT", `At most ${VISIBLE_CHANNELS_MAX_USERS} users per call`, {
        field: "userIds",
      });
    }
    const wanted = [...new Set(userIds.filter(isId))];
    const memberships = wanted.length === 0 ? [] : await this.memberships(wanted);
    const serverIds = [...new Set(memberships.map((m) => m.server_id))];
    const snapshots = fresh ? await this.loadFresh(serverIds, wanted) : await this.loadCached(serverIds);
    const byUser = new Map<string, VisibleServer[]>();
    for (const { server_id: serverId, user_id: userId } of memberships) {
      const snapshot = snapshots.get(serverId);
      const access = snapshot && accessFromSnapshot(snapshot, userId);
      if (!snapshot || !access) continue;
      const channelIds: string[] = [];
      for (const channel of snapshot.channels.values()) {
        const bits = channelPermissions(access, channel, snapshot.overwrites);
        if ((bits & Permission.VIEW_CHANNEL) !== 0n) channelIds.push(channel.id);
      }
      const list = byUser.get(userId) ?? [];
      list.push({ serverId, channelIds });
      byUser.set(userId, list);
    }
    return userIds.map((userId) => ({ userId, servers: byUser.get(userId) ?? [] }));
  }

  private async memberships(userIds: string[]): Promise<Array<{ server_id: string; user_id: string }>> {
    const rows = await this.deps.db
      .selectFrom("members")
      .select(["server_id", "user_id"])
      .where("user_id", "=", anyOf(userIds))
      .orderBy("joined_at")
      .orderBy("server_id")
      .execute();
    return rows.map((row) => ({ server_id: String(row.server_id), user_id: String(row.user_id) }));
  }

  private async loadCached(serverIds: string[]): Promise<Map<string, ServerSnapshot>> {
    const loaded = await Promise.all(serverIds.map((id) => this.deps.cache.get(id)));
    const snapshots = new Map<string, ServerSnapshot>();
    for (const snapshot of loaded) if (snapshot) snapshots.set(String(snapshot.server.id), snapshot);
    return snapshots;
  }

  /** Snapshots holding only the asked-for members (all the engine needs for them), in six queries. */
  private async loadFresh(serverIds: string[], userIds: string[]): Promise<Map<string, ServerSnapshot>> {
    if (serverIds.length === 0) return new Map();
    const { db } = this.deps;
    const [servers, roles, members, memberRoles, channels, overwrites] = await Promise.all([
      db
        .selectFrom("servers")
        .select(["id", "name", "description", "public", "owner_id", "created_at"])
        .where("id", "=", anyOf(serverIds))
        .execute(),
      db
        .selectFrom("roles")
        .select(["id", "server_id", "name", "color", "permissions", "position"])
        .where("server_id", "=", anyOf(serverIds))
        .orderBy("position", "desc")
        .orderBy("id")
        .execute() as Promise<RoleRow[]>,
      db
        .selectFrom("members")
        .select(["server_id", "user_id", "timed_out_until"])
        .where("server_id", "=", anyOf(serverIds))
        .where("user_id", "=", anyOf(userIds))
        .execute(),
      db
        .selectFrom("member_roles")
        .select(["server_id", "user_id", "role_id"])
        .where("server_id", "=", anyOf(serverIds))
        .where("user_id", "=", anyOf(userIds))
        .execute(),
      db
        .selectFrom("channels")
        .select(["id", "server_id", "type", "name", "parent_id", "position", "topic"])
        .where("server_id", "=", anyOf(serverIds))
        .orderBy("position")
        .orderBy("id")
        .execute() as Promise<ChannelRow[]>,
      db
        .selectFrom("overwrites as o")
        .innerJoin("channels as c", "c.id", "o.channel_id")
        .select(["c.server_id", "o.channel_id", "o.target_type", "o.target_id", "o.allow", "o.deny"])
        .where("c.server_id", "=", anyOf(serverIds))
        // Other members' overwrites never change these users' bits.
        .where((eb) => eb.or([eb("o.target_type", "=", "role"), eb("o.target_id", "=", anyOf(userIds))]))
        .execute(),
    ]);
    const snapshots = new Map<string, ServerSnapshot>();
    for (const server of servers) {
      const id = String(server.id);
      const serverRoles = roles.filter((role) => String(role.server_id) === id);
      const everyone = serverRoles.find((role) => String(role.id) === id);
      if (!everyone) continue;
      snapshots.set(id, {
        // Why 0: the member count is not needed for permissions and would cost a query.
        server: {
          ...server,
          id,
          owner_id: String(server.owner_id),
          member_count: 0,
          picture_key: null,
          banner_key: null,
        },
        roles: serverRoles,
        everyone,
        members: new Map(),
        timeouts: new Map(),
        channels: new Map(),
        overwrites: [],
      });
    }
    for (const member of members) {
      const snapshot = snapshots.get(String(member.server_id));
      if (!snapshot) continue;
      snapshot.members.set(String(member.user_id), []);
      if (member.timed_out_until) snapshot.timeouts.set(String(member.user_id), member.timed_out_until);
    }
    for (const held of memberRoles) {
      snapshots.get(String(held.server_id))?.members.get(String(held.user_id))?.push(String(held.role_id));
    }
    for (const channel of channels) {
      snapshots.get(String(channel.server_id))?.channels.set(String(channel.id), channel);
    }
    for (const { server_id, ...overwrite } of overwrites) {
      snapshots.get(String(server_id))?.overwrites.push(overwrite as OverwriteRow);
    }
    return snapshots;
  }
}
