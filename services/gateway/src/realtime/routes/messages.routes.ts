import type { BusEvent } from "@beep/bus";
import type { EventRoute, RoutedEvent } from "../audience.ts";

/**
 * The messages feature's routes (realtime contract): everything about a message goes to the members who
 * may view its channel; a read state only to its owner; typing (ephemeral, never replayed) to the channel.
 */

type Payload = Record<string, unknown>;

const str = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;
const obj = (value: unknown): Payload | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Payload) : undefined;

/** A channel-audience event built from the payload's ids, or nothing when they are missing. */
function inChannel(p: Payload, typename: string, data: (p: Payload) => Payload | undefined): RoutedEvent[] {
  const serverId = str(p.serverId);
  const channelId = str(p.channelId);
  const fields = data(p);
  if (!serverId || !channelId || !fields) return [];
  return [{ audience: { kind: "channel", serverId, channelId }, typename, data: fields }];
}

/** Keeps the listed string fields; undefined when one is missing. */
const pick =
  (...keys: string[]) =>
  (p: Payload): Payload | undefined => {
    const out: Payload = {};
    for (const key of keys) {
      const value = str(p[key]);
      if (value === undefined) return undefined;
      out[key] = value;
    }
    return out;
  };

const withMessage = (p: Payload) => {
  const message = obj(p.message);
  return message ? { message } : undefined;
};

const withThread = (p: Payload) => {
  const thread = obj(p.thread);
  return thread ? { serverId: p.serverId, channelId: p.channelId, thread } : undefined;
};

const byType: Record<string, (p: Payload) => RoutedEvent[]> = {
  "message.created": (p) => inChannel(p, "MessageCreated", withMessage),
  "message.updated": (p) => inChannel(p, "MessageUpdated", withMessage),
  "message.deleted": (p) => inChannel(p, "MessageDeleted", pick("serverId", "channelId", "messageId")),
  "message.pinned": (p) =>
    inChannel(p, "MessagePinned", pick("serverId", "channelId", "messageId", "userId")),
  "message.unpinned": (p) =>
    inChannel(p, "MessageUnpinned", pick("serverId", "channelId", "messageId", "userId")),
  "reaction.added": (p) =>
    inChannel(p, "ReactionAdded", pick("serverId", "channelId", "messageId", "emoji", "userId")),
  "reaction.removed": (p) =>
    inChannel(p, "ReactionRemoved", pick("serverId", "channelId", "messageId", "emoji", "userId")),
  "thread.created": (p) => inChannel(p, "ThreadCreated", withThread),
  "thread.updated": (p) => inChannel(p, "ThreadUpdated", withThread),
  "typing.started": (p) =>
    inChannel(p, "TypingStarted", pick("serverId", "channelId", "userId", "expiresAt")),
  "read_state.updated": (p) => {
    const fields = pick("userId", "serverId", "channelId")(p);
    if (!fields) return [];
    const userId = String(fields.userId);
    return [
      {
        audience: { kind: "users", userIds: [userId] },
        typename: "ReadStateUpdated",
        data: {
          ...fields,
          lastReadMessageId: str(p.lastReadMessageId) ?? null,
          mentionCount: typeof p.mentionCount === "number" ? p.mentionCount : 0,
        },
      },
    ];
  },
  // A ban's message deletion: open clients remove the messages. The service emits one event per channel,
  // so only those who may view that channel learn the ids.
  "messages.purged": (p) => {
    const messageIds = Array.isArray(p.messageIds)
      ? p.messageIds.filter((id): id is string => typeof id === "string")
      : [];
    if (messageIds.length === 0) return [];
    return inChannel(p, "MessagesPurged", (q) => {
      const ids = pick("serverId", "channelId", "userId")(q);
      return ids ? { ...ids, messageIds } : undefined;
    });
  },
};

/** Every messages event (and typing.started, from Bus.broadcast) → what members see of it. */
export const messagesEventRoute: EventRoute = (event: BusEvent): RoutedEvent[] => {
  const route = byType[event.type];
  const payload = obj(event.payload);
  return route && payload ? route(payload) : [];
};

/** The messages feature's routes. */
export const messagesRoutes: readonly EventRoute[] = [messagesEventRoute];
