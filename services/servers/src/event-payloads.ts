import type { Kysely } from "kysely";
import {
  type ChannelView,
  channelView,
  type MemberView,
  memberView,
  type RoleView,
  roleView,
  type ServerView,
  serverView,
} from "./server-views.ts";
import type { ServersRepository } from "./servers.repository.ts";
import type { ServersTables } from "./servers.tables.ts";

/**
 * Fat event payloads (realtime contract): each event carries the view of what changed, so the gateway
 * routes and renders it with no call back. Read inside the writing transaction, so the view is the state
 * the event announces. The ids stay at the top level (`serverId`, `channelId`, …) for existing consumers.
 */

/** Why "left": a member who leaves on their own; kick and ban name the moderator's action. */
export type MemberLeftReason = "left" | "kick" | "ban";

/** `{ server: ServerView }` for server.created/updated. */
export async function serverPayload(
  db: Kysely<ServersTables>,
  repo: ServersRepository,
  serverId: string,
): Promise<{ server: ServerView }> {
  const row = await repo.findServer(db, serverId);
  if (!row) throw new Error(`server ${serverId} vanished inside its own transaction`);
  return { server: serverView(row) };
}

/** `{ channel: ChannelView }` (with its overwrites) for channel.created/updated. */
export async function channelPayload(
  db: Kysely<ServersTables>,
  repo: ServersRepository,
  channelId: string,
): Promise<{ channel: ChannelView }> {
  const row = await repo.findChannel(db, channelId);
  if (!row) throw new Error(`channel ${channelId} vanished inside its own transaction`);
  const overwrites = await db
    .selectFrom("overwrites")
    .select(["channel_id", "target_type", "target_id", "allow", "deny"])
    .where("channel_id", "=", channelId)
    .orderBy("target_type", "desc")
    .orderBy("target_id")
    .execute();
  return { channel: channelView(row, overwrites) };
}

/** `{ role: RoleView }` for role.created/updated. */
export async function rolePayload(
  db: Kysely<ServersTables>,
  repo: ServersRepository,
  serverId: string,
  roleId: string,
): Promise<{ role: RoleView }> {
  const row = (await repo.roles(db, serverId)).find((role) => String(role.id) === roleId);
  if (!row) throw new Error(`role ${roleId} vanished inside its own transaction`);
  return { role: roleView(row) };
}

/** `{ member: MemberView }` for member.joined/updated. */
export async function memberPayload(
  db: Kysely<ServersTables>,
  serverId: string,
  userId: string,
): Promise<{ member: MemberView }> {
  // Sequential: inside a transaction the queries share one connection anyway.
  const member = await db
    .selectFrom("members")
    .select(["user_id", "joined_at"])
    .where("server_id", "=", serverId)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  const server = await db
    .selectFrom("servers")
    .select("owner_id")
    .where("id", "=", serverId)
    .executeTakeFirst();
  const held = await db
    .selectFrom("member_roles")
    .select("role_id")
    .where("server_id", "=", serverId)
    .where("user_id", "=", userId)
    .orderBy("role_id")
    .execute();
  if (!member || !server) throw new Error(`member ${userId} vanished inside its own transaction`);
  return {
    member: memberView(serverId, String(server.owner_id), {
      user_id: String(member.user_id),
      joined_at: member.joined_at,
      role_ids: held.map((row) => String(row.role_id)),
    }),
  };
}
