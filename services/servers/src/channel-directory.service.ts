import type { Kysely } from "kysely";
import { accessFromSnapshot, type PermissionCache } from "./permission-cache.ts";
import { PERMISSIONS } from "./permissions/index.ts";
import { channelPermissions, isId } from "./server-access.ts";
import type { ServersTables } from "./servers.tables.ts";

/** Ids a lookup accepts at most per call; the rest are ignored (callers send a message's worth). */
export const DIRECTORY_MAX_IDS = 200;

/** Where a channel lives; empty strings for an unknown channel. */
export interface ChannelLocation {
  channelId: string;
  serverId: string;
  type: string;
}

/** What a message's mention candidates resolve to. */
export interface ResolvedMentions {
  userIds: string[];
  roleIds: string[];
  channelIds: string[];
}

/** Mention candidates, as the messages service parsed them from content. */
export interface MentionCandidates {
  serverId: string;
  channelId: string;
  senderId: string;
  userIds: readonly string[];
  roleNames: readonly string[];
  roleIds: readonly string[];
  channelNames: readonly string[];
  channelIds: readonly string[];
}

/**
 * Lookups for other services (internal: the route has checked the internal token). Channel locations
 * come from one query; mentions are resolved from the {@link PermissionCache} snapshot of the server, so a
 * message with any number of mentions costs no query when the server is warm.
 */
export class ChannelDirectoryService {
  constructor(private readonly deps: { db: Kysely<ServersTables>; cache: PermissionCache }) {}

  /** One entry per requested id, in order. */
  async locate(channelIds: readonly string[]): Promise<ChannelLocation[]> {
    const wanted = channelIds.slice(0, DIRECTORY_MAX_IDS);
    const valid = [...new Set(wanted.filter(isId))];
    const rows =
      valid.length === 0
        ? []
        : await this.deps.db
            .selectFrom("channels")
            .select(["id", "server_id", "type"])
            .where("id", "in", valid)
            .execute();
    const byId = new Map(rows.map((row) => [row.id, row]));
    return wanted.map((channelId) => {
      const row = byId.get(channelId);
      return { channelId, serverId: row?.server_id ?? "", type: row?.type ?? "" };
    });
  }

  /** One member's role ids (without @everyone), from the cached snapshot: no query when the server is warm. */
  async memberRoles(serverId: string, userId: string): Promise<{ member: boolean; roleIds: string[] }> {
    const snapshot = isId(serverId) ? await this.deps.cache.get(serverId) : undefined;
    const held = snapshot?.members.get(userId);
    if (!snapshot || !held) return { member: false, roleIds: [] };
    return { member: true, roleIds: held.filter((id) => id !== snapshot.everyone.id) };
  }

  /** Users who can view the channel, roles by name or id (not @everyone), channels the sender can view. */
  async resolveMentions(input: MentionCandidates): Promise<ResolvedMentions> {
    const none: ResolvedMentions = { userIds: [], roleIds: [], channelIds: [] };
    const snapshot = isId(input.serverId) ? await this.deps.cache.get(input.serverId) : undefined;
    const channel = snapshot?.channels.get(input.channelId);
    if (!snapshot || !channel) return none;
    const viewsChannel = (userId: string) => {
      const access = accessFromSnapshot(snapshot, userId);
      if (!access) return false;
      return (channelPermissions(access, channel, snapshot.overwrites) & PERMISSIONS.VIEW_CHANNEL) !== 0n;
    };
    const userIds = [...new Set(input.userIds.slice(0, DIRECTORY_MAX_IDS))].filter(viewsChannel);

    const roleNames = new Set(input.roleNames.map((name) => name.toLowerCase()));
    const roleIds = new Set(input.roleIds);
    const roles = snapshot.roles
      .filter((role) => role.id !== snapshot.everyone.id)
      .filter((role) => roleIds.has(role.id) || roleNames.has(role.name.toLowerCase()))
      .map((role) => role.id);

    const sender = accessFromSnapshot(snapshot, input.senderId);
    const channelNames = new Set(input.channelNames.map((name) => name.toLowerCase()));
    const channelIds = new Set(input.channelIds);
    const channels = sender
      ? [...snapshot.channels.values()]
          .filter((c) => channelIds.has(c.id) || channelNames.has(c.name.toLowerCase()))
          .filter(
            (c) => (channelPermissions(sender, c, snapshot.overwrites) & PERMISSIONS.VIEW_CHANNEL) !== 0n,
          )
          .map((c) => c.id)
      : [];
    return { userIds, roleIds: roles, channelIds: channels };
  }
}
