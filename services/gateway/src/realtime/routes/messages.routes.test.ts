import type { BusEvent } from "@beep/bus";
import { describe, expect, it } from "vitest";
import { messagesEventRoute } from "./messages.routes.ts";

const route = (type: string, payload: unknown) =>
  messagesEventRoute({ id: "1", type, occurredAt: "2026-01-01T00:00:00.000Z", payload } satisfies BusEvent);
const inChannel = { kind: "channel", serverId: "S", channelId: "C" };
const message = { id: "M", serverId: "S", channelId: "C", content: "hi", mentions: { userIds: [] } };

describe("messages routes", () => {
  it("sends message, pin and reaction events to those who may view the channel", () => {
    expect(route("message.created", { serverId: "S", channelId: "C", message })).toEqual([
      { audience: inChannel, typename: "MessageCreated", data: { message } },
    ]);
    expect(route("message.updated", { serverId: "S", channelId: "C", message })[0]?.typename).toBe(
      "MessageUpdated",
    );
    expect(route("message.deleted", { serverId: "S", channelId: "C", messageId: "M" })).toEqual([
      {
        audience: inChannel,
        typename: "MessageDeleted",
        data: { serverId: "S", channelId: "C", messageId: "M" },
      },
    ]);
    const pin = { serverId: "S", channelId: "C", messageId: "M", userId: "U" };
    expect(route("message.pinned", pin)).toEqual([
      { audience: inChannel, typename: "MessagePinned", data: pin },
    ]);
    expect(route("message.unpinned", pin)[0]?.typename).toBe("MessageUnpinned");
    const reaction = { ...pin, emoji: "👍" };
    expect(route("reaction.added", reaction)).toEqual([
      { audience: inChannel, typename: "ReactionAdded", data: reaction },
    ]);
    expect(route("reaction.removed", reaction)[0]?.typename).toBe("ReactionRemoved");
  });

  it("sends typing (ephemeral) to the channel and a read state to its owner only", () => {
    const typing = { serverId: "S", channelId: "C", userId: "U", expiresAt: "2026-01-01T00:00:10.000Z" };
    expect(route("typing.started", typing)).toEqual([
      { audience: inChannel, typename: "TypingStarted", data: typing },
    ]);
    expect(
      route("read_state.updated", {
        userId: "U",
        serverId: "S",
        channelId: "C",
        lastReadMessageId: "M",
        mentionCount: 2,
      }),
    ).toEqual([
      {
        audience: { kind: "users", userIds: ["U"] },
        typename: "ReadStateUpdated",
        data: { userId: "U", serverId: "S", channelId: "C", lastReadMessageId: "M", mentionCount: 2 },
      },
    ]);
  });

  it("routes messages.purged to the channel's viewers; a payload without a channel goes nowhere", () => {
    const purged = { serverId: "S", channelId: "C", userId: "U", messageIds: ["1", "2"] };
    expect(route("messages.purged", purged)).toEqual([
      { audience: inChannel, typename: "MessagesPurged", data: purged },
    ]);
    expect(route("messages.purged", { ...purged, channelId: null })).toEqual([]);
  });

  it("routes nothing for missing ids or other events", () => {
    expect(route("message.created", { serverId: "S", message })).toEqual([]);
    expect(route("message.created", { serverId: "S", channelId: "C" })).toEqual([]);
    expect(route("reaction.added", { serverId: "S", channelId: "C", messageId: "M", userId: "U" })).toEqual(
      [],
    );
    expect(route("read_state.updated", { serverId: "S", channelId: "C" })).toEqual([]);
    expect(route("messages.purged", { serverId: "S", channelId: null, userId: "U", messageIds: [] })).toEqual(
      [],
    );
    expect(route("channel.created", { serverId: "S", channelId: "C" })).toEqual([]);
  });
});
