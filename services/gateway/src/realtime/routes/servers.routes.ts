import type { BusEvent } from "@beep/bus";
import type { Audience, EventRoute, RoutedEvent } from "../audience.ts";

/**
 * The servers feature's routes (realtime contract, issues 4 and 5): fat payloads in, stream events out.
 * Server, role and member events go to every member of the server; channel events to the members who
 * may view the channel (the {@link AudienceIndex} has already applied the change when they are routed,
 * except deletions, which still reach those who could see the deleted thing). A member who left, was
 * kicked or banned also gets their own MemberLeft, so their client drops the server.
 */

type Payload = Record<string, unknown>;

const str = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;
const obj = (value: unknown): Payload | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Payload) : undefined;

const routed = (audience: Audience, typename: string, data: Payload): RoutedEvent => ({
  audience,
  typename,
  data,
});

/** GraphQL MemberLeftReason values by the payload's reason ("leave" is the name before the contract). */
const LEFT_REASONS: Record<string, "LEFT" | "KICK" | "BAN"> = {
  left: "LEFT",
  leave: "LEFT",
  kick: "KICK",
  ban: "BAN",
};

/** One route per servers event type; each returns [] for a payload it cannot use. */
const byType: Record<string, (payload: Payload, serverId: string) => RoutedEvent[]> = {
  "server.created": (p, serverId) => {
    const server = obj(p.server);
    return server ? [routed({ kind: "server", serverId }, "ServerCreated", { server })] : [];
  },
  "server.updated": (p, serverId) => {
    const server = obj(p.server);
    return server ? [routed({ kind: "server", serverId }, "ServerUpdated", { server })] : [];
  },
  "server.deleted": (_p, serverId) => [routed({ kind: "server", serverId }, "ServerDeleted", { serverId })],
  "channel.created": (p, serverId) => channelEvent(p, serverId, "ChannelCreated"),
  "channel.updated": (p, serverId) => channelEvent(p, serverId, "ChannelUpdated"),
  "channel.deleted": (p, serverId) => {
    const channelId = str(p.channelId);
    if (!channelId) return [];
    const deleted = Array.isArray(p.deletedChannelIds)
      ? p.deletedChannelIds.filter((id): id is string => typeof id === "string")
      : [];
    const deletedChannelIds = deleted.length > 0 ? deleted : [channelId];
    return [
      routed({ kind: "channel", serverId, channelId }, "ChannelDeleted", {
        serverId,
        channelId,
        deletedChannelIds,
      }),
    ];
  },
  "role.created": (p, serverId) => roleEvent(p, serverId, "RoleCreated"),
  "role.updated": (p, serverId) => roleEvent(p, serverId, "RoleUpdated"),
  "role.deleted": (p, serverId) => {
    const roleId = str(p.roleId);
    return roleId ? [routed({ kind: "server", serverId }, "RoleDeleted", { serverId, roleId })] : [];
  },
  "member.joined": (p, serverId) => memberEvent(p, serverId, "MemberJoined"),
  "member.updated": (p, serverId) => memberEvent(p, serverId, "MemberUpdated"),
  "member.left": (p, serverId) => {
    const userId = str(p.userId);
    const reason = LEFT_REASONS[String(p.reason)];
    if (!userId || !reason) return [];
    const data = { serverId, userId, reason };
    // The member is out of the server audience by now (the index dropped them): tell them directly.
    return [
      routed({ kind: "server", serverId }, "MemberLeft", data),
      routed({ kind: "users", userIds: [userId] }, "MemberLeft", data),
    ];
  },
  "invite.received": (p, serverId) => {
    const userId = str(p.userId);
    const invite = obj(p.invite);
    if (!userId || !invite) return [];
    return [routed({ kind: "users", userIds: [userId] }, "InviteReceived", { serverId, invite })];
  },
  // member.banned: the ban list needs BAN_MEMBERS, so members learn of a ban only as MemberLeft (BAN);
  // member.unbanned likewise stays with moderators (they read it from bans/audit log).
};

function channelEvent(p: Payload, serverId: string, typename: string): RoutedEvent[] {
  const channel = obj(p.channel);
  const channelId = str(p.channelId) ?? str(channel?.id);
  if (!channel || !channelId) return [];
  return [routed({ kind: "channel", serverId, channelId }, typename, { channel })];
}

function roleEvent(p: Payload, serverId: string, typename: string): RoutedEvent[] {
  const role = obj(p.role);
  return role ? [routed({ kind: "server", serverId }, typename, { role })] : [];
}

function memberEvent(p: Payload, serverId: string, typename: string): RoutedEvent[] {
  const member = obj(p.member);
  return member ? [routed({ kind: "server", serverId }, typename, { member })] : [];
}

/** Every servers event → what members see of it. */
export const serversEventRoute: EventRoute = (event: BusEvent): RoutedEvent[] => {
  const route = byType[event.type];
  const payload = obj(event.payload);
  const serverId = str(payload?.serverId);
  if (!route || !payload || !serverId) return [];
  return route(payload, serverId);
};

/** The servers feature's routes. */
export const serversRoutes: readonly EventRoute[] = [serversEventRoute];
