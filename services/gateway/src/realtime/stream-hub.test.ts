import { type BusEvent, MemoryBus } from "@beep/bus";
import { BeepError } from "@beep/errors";
import { createLogger } from "@beep/observability";
import { afterEach, describe, expect, it } from "vitest";
import { userUpdatedRoute } from "./routes/users.routes.ts";
import { CLOSE_SLOW_CONSUMER, type StreamHub as Hub, StreamHub, type StreamRoot } from "./stream-hub.ts";
import { UserOnlyAudienceIndex } from "./user-only-audience-index.ts";

const logger = createLogger({ service: "stream-hub-test", level: "silent" });
let counter = 0;

function userUpdated(userId: string, n: number): BusEvent {
  return {
    id: `e${++counter}`,
    type: "user.updated",
    occurredAt: new Date().toISOString(),
    payload: { user: { id: userId, n } },
  };
}

class FakeSocket {
  readonly frames: { id: string; type: string; payload: { data: { events: StreamRoot } } }[] = [];
  readonly raw: string[] = [];
  bufferedAmount = 0;
  readyState = 1;
  closedWith: number | undefined;
  send(data: Buffer, options: { binary: boolean }): void {
    expect(options.binary).toBe(false);
    this.raw.push(data.toString("utf8"));
    this.frames.push(JSON.parse(this.raw.at(-1)!));
  }
  close(code: number): void {
    this.closedWith = code;
    this.readyState = 3;
  }
  /** `n` of the UserUpdated events received, and the typename of others. */
  events(): (number | string)[] {
    return this.frames.map((f) => {
      const event = f.payload.data.events.event;
      return event.__typename === "UserUpdated" ? (event.user as { n: number }).n : event.__typename;
    });
  }
  seqs(): string[] {
    return this.frames.map((f) => f.payload.data.events.seq);
  }
}

async function waitUntil(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

interface Setup {
  bus: MemoryBus;
  hub: Hub;
  index: UserOnlyAudienceIndex;
  executions: () => number;
  open(
    userId: string,
    socket: FakeSocket,
    options?: { since?: string | null; key?: string; id?: string },
  ): Promise<AsyncIterableIterator<never>>;
}

const running: Setup[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) {
    await s.hub.stop();
    await s.bus.close();
  }
});

async function setup(
  options: { replayWindowEvents?: number; replayWindowSeconds?: number; now?: () => number } = {},
  index = new UserOnlyAudienceIndex(),
): Promise<Setup> {
  const bus = new MemoryBus(logger);
  let executions = 0;
  const hub = new StreamHub({
    bus,
    audienceIndex: index,
    routes: [userUpdatedRoute],
    logger,
    replayWindowEvents: options.replayWindowEvents ?? 1000,
    replayWindowSeconds: options.replayWindowSeconds ?? 300,
    maxSocketBufferBytes: 1024,
    now: options.now,
  });
  await hub.start();
  const s: Setup = {
    bus,
    hub,
    index,
    executions: () => executions,
    open: (userId, socket, o = {}) =>
      hub.open({
        subscriptionId: o.id ?? "1",
        userId,
        since: o.since,
        socket,
        groupKey: o.key ?? "doc",
        execute: (root) => {
          executions++;
          return { data: { events: root } };
        },
      }),
  };
  running.push(s);
  return s;
}

async function publish(s: Setup, events: BusEvent[]): Promise<void> {
  for (const e of events) await s.bus.publish(e);
  await settle();
}

describe("StreamHub", () => {
  it("delivers a user's events live, with increasing seqs, and nothing of other users", async () => {
    const s = await setup();
    const socket = new FakeSocket();
    await s.open("u1", socket);
    await publish(s, [userUpdated("u1", 1), userUpdated("u2", 2), userUpdated("u1", 3)]);
    expect(socket.events()).toEqual([1, 3]);
    const [a, b] = socket.seqs().map(Number);
    expect(b).toBe(a! + 2);
    expect(s.hub.openStreams()).toBe(1);
  });

  it("executes once per group and sends the same payload bytes to every subscriber, stitching only the id", async () => {
    const s = await setup();
    const sockets = Array.from({ length: 5 }, () => new FakeSocket());
    for (const [i, socket] of sockets.entries()) await s.open("u1", socket, { id: `sub-${i}` });
    const other = new FakeSocket();
    await s.open("u1", other, { key: "another document" });
    await publish(s, [userUpdated("u1", 1)]);
    expect(s.executions()).toBe(2);
    const payloads = sockets.map((socket) => socket.raw[0]!.replace(/^\{"id":"sub-\d","type":"next",/, ""));
    expect(new Set(payloads).size).toBe(1);
    expect(sockets.map((socket) => socket.frames[0]!.id)).toEqual([
      "sub-0",
      "sub-1",
      "sub-2",
      "sub-3",
      "sub-4",
    ]);
    expect(other.events()).toEqual([1]);
  });

  it("resumes after since: exactly the missed events in order, then live, no duplicate", async () => {
    const s = await setup();
    const first = new FakeSocket();
    const iterator = await s.open("u1", first);
    await publish(
      s,
      [1, 2].map((n) => userUpdated("u1", n)),
    );
    const lastSeen = first.seqs().at(-1)!;
    await iterator.return?.();
    expect(s.hub.openStreams()).toBe(0);
    await publish(
      s,
      [3, 4, 5].map((n) => userUpdated("u1", n)),
    );
    const resumed = new FakeSocket();
    await s.open("u1", resumed, { since: lastSeen });
    expect(resumed.events()).toEqual([3, 4, 5]);
    await publish(s, [userUpdated("u1", 6)]);
    expect(resumed.events()).toEqual([3, 4, 5, 6]);
    expect(new Set(resumed.seqs()).size).toBe(4);
  });

  it("replays nothing for since = the last position, and covers since = the ring's floor", async () => {
    const s = await setup({ replayWindowEvents: 2 });
    await publish(
      s,
      [1, 2, 3].map((n) => userUpdated("u1", n)),
    );
    const last = String(s.hub.lastPosition());
    const atEnd = new FakeSocket();
    await s.open("u1", atEnd, { since: last });
    expect(atEnd.frames).toEqual([]);
    // Ring of 2: events 2 and 3 are held, event 1 (the floor) was evicted.
    const fromFloor = new FakeSocket();
    await s.open("u1", fromFloor, { since: String(Number(last) - 2) });
    expect(fromFloor.events()).toEqual([2, 3]);
    const tooOld = new FakeSocket();
    await s.open("u1", tooOld, { since: String(Number(last) - 3) });
    expect(tooOld.events()).toEqual(["ResyncRequired"]);
    expect(tooOld.frames[0]!.payload.data.events.event).toMatchObject({ reason: "WINDOW_EXCEEDED" });
    await publish(s, [userUpdated("u1", 4)]);
    expect(tooOld.events()).toEqual(["ResyncRequired", 4]);
    expect(fromFloor.events()).toEqual([2, 3, 4]);
    expect(atEnd.events()).toEqual([4]);
  });

  it("forgets events older than the time window", async () => {
    let now = 1_000_000;
    const s = await setup({ replayWindowSeconds: 60, now: () => now });
    await publish(s, [userUpdated("u1", 1)]);
    const before = String(s.hub.lastPosition() - 1);
    now += 61_000;
    const socket = new FakeSocket();
    await s.open("u1", socket, { since: before });
    expect(socket.events()).toEqual(["ResyncRequired"]);
  });

  it("treats a since slightly ahead of this node as already delivered, and a far one as unknown", async () => {
    const s = await setup();
    await publish(s, [userUpdated("u1", 1)]);
    const last = s.hub.lastPosition();
    const ahead = new FakeSocket();
    await s.open("u1", ahead, { since: String(last + 1) });
    await publish(s, [userUpdated("u1", 2), userUpdated("u1", 3)]);
    expect(ahead.events()).toEqual([3]);
    const far = new FakeSocket();
    await s.open("u1", far, { since: String(last + 10_000_000) });
    expect(far.frames[0]!.payload.data.events.event).toMatchObject({
      __typename: "ResyncRequired",
      reason: "UNKNOWN_POSITION",
    });
  });

  it("refuses a malformed since with BAD_USER_INPUT and registers nothing", async () => {
    const s = await setup();
    for (const since of ["abc", "-1", "1.5", "01", "99999999999999999999", ""]) {
      const error = await s.open("u1", new FakeSocket(), { since }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BeepError);
      expect((error as BeepError).code).toBe("BAD_USER_INPUT");
    }
    expect(s.hub.openStreams()).toBe(0);
  });

  it("events processed while the user is being attached are replayed once, before live ones", async () => {
    let release: () => void = () => {};
    class SlowIndex extends UserOnlyAudienceIndex {
      override async attach(userId: string): Promise<void> {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        await super.attach(userId);
      }
    }
    const s = await setup({}, new SlowIndex());
    await publish(s, [userUpdated("u1", 1)]);
    const since = String(s.hub.lastPosition());
    const socket = new FakeSocket();
    const opening = s.open("u1", socket, { since });
    await publish(
      s,
      [2, 3].map((n) => userUpdated("u1", n)),
    );
    release();
    await opening;
    await publish(s, [userUpdated("u1", 4)]);
    expect(socket.events()).toEqual([2, 3, 4]);
  });

  it("keeps order when an execution is asynchronous", async () => {
    const s = await setup();
    const socket = new FakeSocket();
    let calls = 0;
    await s.hub.open({
      subscriptionId: "1",
      userId: "u1",
      since: undefined,
      socket,
      groupKey: "k",
      execute: (root) => {
        calls++;
        const result = { data: { events: root } };
        return calls === 1 ? new Promise((resolve) => setTimeout(() => resolve(result), 50)) : result;
      },
    });
    await publish(
      s,
      [1, 2, 3].map((n) => userUpdated("u1", n)),
    );
    await waitUntil(() => socket.frames.length === 3, "three frames");
    expect(socket.events()).toEqual([1, 2, 3]);
  });

  it("closes a slow socket with 4008, stops writing to it, and leaves the others alone", async () => {
    const s = await setup();
    const slow = new FakeSocket();
    const healthy = new FakeSocket();
    await s.open("u1", slow);
    await s.open("u1", healthy, { id: "2" });
    slow.bufferedAmount = 10_000;
    await publish(
      s,
      [1, 2].map((n) => userUpdated("u1", n)),
    );
    expect(slow.closedWith).toBe(CLOSE_SLOW_CONSUMER);
    expect(slow.frames).toHaveLength(1);
    expect(healthy.events()).toEqual([1, 2]);
    expect(s.hub.openStreams()).toBe(1);
  });

  it("observes every event in log order before routing it", async () => {
    const seen: string[] = [];
    class RecordingIndex extends UserOnlyAudienceIndex {
      override async observe(event?: BusEvent): Promise<undefined> {
        await new Promise((resolve) => setTimeout(resolve, 5));
        seen.push(event!.id);
        return undefined;
      }
    }
    const s = await setup({}, new RecordingIndex());
    const socket = new FakeSocket();
    await s.open("u1", socket);
    const events = [
      userUpdated("u1", 1),
      { ...userUpdated("u1", 0), type: "server.updated" },
      userUpdated("u1", 2),
    ];
    for (const e of events) await s.bus.publish(e);
    await waitUntil(() => seen.length === 3 && socket.frames.length === 2, "observed and delivered");
    expect(seen).toEqual(events.map((e) => e.id));
    expect(socket.events()).toEqual([1, 2]);
  });
});
