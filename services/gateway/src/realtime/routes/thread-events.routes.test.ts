import type { BusEvent } from "@beep/bus";
import { describe, expect, it } from "vitest";
import { messagesEventRoute } from "./messages.routes.ts";

const route = (type: string, payload: unknown) =>
  messagesEventRoute({ id: "1", type, occurredAt: "2026-01-01T00:00:00.000Z", payload } satisfies BusEvent);

describe("thread routes", () => {
  it("sends thread.created|updated to those who may view the parent channel, and drops malformed ones", () => {
    const thread = { id: "T", serverId: "S", channelId: "C", messageId: "M", name: "Plans", messageCount: 0 };
    const audience = { kind: "channel", serverId: "S", channelId: "C" };
    expect(route("thread.created", { serverId: "S", channelId: "C", thread })).toEqual([
      { audience, typename: "ThreadCreated", data: { serverId: "S", channelId: "C", thread } },
    ]);
    expect(route("thread.updated", { serverId: "S", channelId: "C", thread })[0]?.typename).toBe(
      "ThreadUpdated",
    );
    expect(route("thread.created", { serverId: "S", channelId: "C" })).toEqual([]);
    expect(route("thread.created", { serverId: "S", thread })).toEqual([]);
  });
});
