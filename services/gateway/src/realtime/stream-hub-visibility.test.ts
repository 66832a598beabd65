import { type BusEvent, MemoryBus } from "@beep/bus";
import { createLogger } from "@beep/observability";
import { afterEach, describe, expect, it } from "vitest";
import { defaultEventRoutes } from "./event-routes.ts";
import { ServerAudienceIndex, type UserVisibility } from "./server-audience-index.ts";
import { StreamHub, type StreamRoot } from "./stream-hub.ts";

const logger = createLogger({ service: "stream-hub-visibility-test", level: "silent" });

/** The servers service as VisibleChannels answers now: user → server → visible channels. */
class World {
  readonly visible = new Map<string, Map<string, string[]>>();
  set(userId: string, serverId: string, channelIds: string[] | undefined): void {
    const servers = this.visible.get(userId) ?? new Map<string, string[]>();
    if (channelIds) servers.set(serverId, channelIds);
    else servers.delete(serverId);
    this.visible.set(userId, servers);
  }
  readonly fn = async (userIds: readonly string[]): Promise<UserVisibility[]> =>
    userIds.map((userId) => ({
      userId,
      servers: [...(this.visible.get(userId) ?? [])].map(([serverId, channelIds]) => ({
        serverId,
        channelIds,
      })),
    }));
}

class Socket {
  readonly frames: { payload: { data: { events: StreamRoot } } }[] = [];
  bufferedAmount = 0;
  readyState = 1;
  send(data: Buffer, _options: { binary: boolean }): void {
    this.frames.push(JSON.parse(data.toString("utf8")));
  }
  close(): void {
    this.readyState = 3;
  }
  /** Message ids of MessageCreated, the typename of anything else. */
  events(): string[] {
    return this.frames.map(({ payload }) => {
      const event = payload.data.events.event;
      if (event.__typename === "MessageCreated") return (event.message as { id: string }).id;
      if (event.__typename === "ResyncRequired") return `ResyncRequired:${String(event.reason)}`;
      return event.__typename;
    });
  }
  lastSeq(): string {
    return this.frames.at(-1)!.payload.data.events.seq;
  }
}

let ids = 0;
const event = (type: string, payload: Record<string, unknown>): BusEvent => ({
  id: String(++ids),
  type,
  occurredAt: new Date().toISOString(),
  payload,
});
const message = (channelId: string, id: string) =>
  event("message.created", { serverId: "S", channelId, message: { id, serverId: "S", channelId } });
const channelUpdated = (channelId: string, overwrites: unknown[]) =>
  event("channel.updated", { serverId: "S", channelId, channel: { id: channelId, overwrites } });

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** Server S: general (everyone), secret (hidden from A); owner O and members A, B. */
async function setup() {
  const world = new World();
  world.set("O", "S", ["general", "secret"]);
  world.set("A", "S", ["general"]);
  world.set("B", "S", ["general"]);
  const bus = new MemoryBus(logger);
  const hub = new StreamHub({
    bus,
    audienceIndex: new ServerAudienceIndex(world.fn),
    routes: defaultEventRoutes,
    logger,
    replayWindowEvents: 1000,
    replayWindowSeconds: 300,
    maxSocketBufferBytes: 1 << 20,
  });
  await hub.start();
  stops.push(async () => {
    await hub.stop();
    await bus.close();
  });
  const open = (userId: string, socket: Socket, since?: string) =>
    hub.open({
      subscriptionId: "1",
      userId,
      since,
      socket,
      groupKey: "doc",
      execute: (root) => ({ data: { events: root } }),
    });
  const publish = async (...events: BusEvent[]) => {
    for (const e of events) await bus.publish(e);
    await new Promise((resolve) => setTimeout(resolve, 30));
  };
  /** A's stream saw m0 in general and was closed; returns the seq to resume from. */
  const awayAfterFirstMessage = async (userId = "A") => {
    const socket = new Socket();
    const stream = await open(userId, socket);
    await publish(message("general", "m0"));
    expect(socket.events()).toEqual(["m0"]);
    await stream.return?.();
    return socket.lastSeq();
  };
  return { world, open, publish, awayAfterFirstMessage };
}

describe("StreamHub resume across visibility changes", () => {
  it("a member who gained VIEW_CHANNEL during the gap gets ResyncRequired, not the channel's earlier messages", async () => {
    const s = await setup();
    const since = await s.awayAfterFirstMessage();
    await s.publish(message("secret", "hidden-then"));
    s.world.set("A", "S", ["general", "secret"]);
    await s.publish(channelUpdated("secret", [{ targetId: "A", allow: "1024" }]), message("secret", "shown"));
    const resumed = new Socket();
    await s.open("A", resumed, since);
    expect(resumed.events()).toEqual(["ResyncRequired:VISIBILITY_CHANGED"]);
    await s.publish(message("secret", "live"));
    expect(resumed.events()).toEqual(["ResyncRequired:VISIBILITY_CHANGED", "live"]);
  });

  it("a member who lost VIEW_CHANNEL during the gap gets ResyncRequired (no silent gap either)", async () => {
    const s = await setup();
    const since = await s.awayAfterFirstMessage("B");
    await s.publish(message("general", "seen-then"));
    s.world.set("B", "S", []);
    await s.publish(channelUpdated("general", [{ targetId: "B", deny: "1024" }]));
    const resumed = new Socket();
    await s.open("B", resumed, since);
    expect(resumed.events()).toEqual(["ResyncRequired:VISIBILITY_CHANGED"]);
  });

  it("kicked, or the server deleted, during the gap: ResyncRequired instead of a replay without MemberLeft/ServerDeleted", async () => {
    const s = await setup();
    const sinceA = await s.awayAfterFirstMessage("A");
    s.world.set("A", "S", undefined);
    await s.publish(
      event("member.left", { serverId: "S", userId: "A", reason: "kick" }),
      message("general", "m1"),
    );
    const resumedA = new Socket();
    await s.open("A", resumedA, sinceA);
    expect(resumedA.events()).toEqual(["ResyncRequired:VISIBILITY_CHANGED"]);

    const sinceB = await s.awayAfterFirstMessage("B");
    s.world.set("B", "S", undefined);
    s.world.set("O", "S", undefined);
    await s.publish(event("server.deleted", { serverId: "S" }), event("user.updated", { user: { id: "B" } }));
    const resumedB = new Socket();
    await s.open("B", resumedB, sinceB);
    expect(resumedB.events()[0]).toBe("ResyncRequired:VISIBILITY_CHANGED");
  });

  it("replays exactly when nothing about the user's visibility changed (another member joined, a rename)", async () => {
    const s = await setup();
    const since = await s.awayAfterFirstMessage();
    await s.publish(channelUpdated("secret", [{ targetId: "A", deny: "1024" }])); // fingerprint recorded
    const sinceAfterFingerprint = since;
    s.world.set("C", "S", ["general"]);
    await s.publish(
      message("general", "m1"),
      event("member.joined", { serverId: "S", userId: "C", member: { userId: "C" } }),
      message("secret", "hidden"),
      channelUpdated("secret", [{ targetId: "A", deny: "1024" }]), // same overwrites: a rename
      message("general", "m2"),
    );
    const resumed = new Socket();
    await s.open("A", resumed, sinceAfterFingerprint);
    // The first channel.updated carried overwrites the index had not seen: that alone is a shift.
    expect(resumed.events()).toEqual(["ResyncRequired:VISIBILITY_CHANGED"]);
    const since2 = resumed.lastSeq();
    const resumedAgain = new Socket();
    await s.publish(
      message("general", "m3"),
      event("member.joined", { serverId: "S", userId: "D", member: { userId: "D" } }),
      channelUpdated("secret", [{ targetId: "A", deny: "1024" }]),
      message("secret", "hidden-2"),
      message("general", "m4"),
    );
    const seenLive = resumed.events().slice(1);
    expect(seenLive).toEqual(["m3", "MemberJoined", "m4"]);
    await s.open("A", resumedAgain, since2);
    expect(resumedAgain.events()).toEqual(["m3", "MemberJoined", "m4"]);
  });

  it("a change already in the user's fresh snapshot but not yet processed here: ResyncRequired when its event arrives", async () => {
    const s = await setup();
    const since = await s.awayAfterFirstMessage();
    await s.publish(message("general", "m1"));
    // Kicked in the database (the attach reads that), the event still on its way to this node.
    s.world.set("A", "S", undefined);
    const resumed = new Socket();
    await s.open("A", resumed, since);
    expect(resumed.events()).toEqual([]); // m1 filtered by the newer snapshot: a gap, until...
    await s.publish(event("member.left", { serverId: "S", userId: "A", reason: "kick" }));
    expect(resumed.events()).toEqual(["ResyncRequired:VISIBILITY_CHANGED", "MemberLeft"]);
    // Someone else's change concerns nobody resumed here.
    await s.publish(event("member.joined", { serverId: "S", userId: "Z", member: { userId: "Z" } }));
    expect(resumed.events()).toEqual(["ResyncRequired:VISIBILITY_CHANGED", "MemberLeft"]);
  });
});
