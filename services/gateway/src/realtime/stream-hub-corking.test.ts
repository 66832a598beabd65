import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type BusEvent, MemoryBus } from "@beep/bus";
import { createLogger } from "@beep/observability";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { userUpdatedRoute } from "./routes/users.routes.ts";
import { CLOSE_SLOW_CONSUMER, StreamHub, type StreamHubMetrics, type StreamRoot } from "./stream-hub.ts";
import { UserOnlyAudienceIndex } from "./user-only-audience-index.ts";
import { WsStreamSocket } from "./ws-stream-socket.ts";

const logger = createLogger({ service: "stream-hub-corking-test", level: "silent" });
let counter = 0;

function userUpdated(userId: string, n: number, pad = ""): BusEvent {
  return {
    id: `e${++counter}`,
    type: "user.updated",
    occurredAt: new Date().toISOString(),
    payload: { user: { id: userId, n, ...(pad ? { pad } : {}) } },
  };
}

type Frame = { id: string; payload: { data: { events: StreamRoot } } };
const nOf = (frame: Frame) => (frame.payload.data.events.event.user as { n: number }).n;

/**
 * A socket with net.Socket's cork semantics: frames sent while corked are held (and counted as buffered)
 * until the last uncork writes them all at once; a stalled peer leaves what was written buffered.
 */
class CorkableSocket {
  readonly written: Frame[] = [];
  /** Frames per write to the peer: one entry per uncork (or per send when not corked). */
  readonly writes: number[] = [];
  private held: Buffer[] = [];
  corked = 0;
  stalled = false;
  bufferedAmount = 0;
  readyState = 1;
  closedWith: number | undefined;
  send(data: Buffer, _options: { binary: boolean }): void {
    this.held.push(data);
    this.bufferedAmount += data.length;
    if (this.corked === 0) this.writeHeld();
  }
  close(code: number): void {
    this.closedWith = code;
    this.readyState = 2;
  }
  cork(): void {
    this.corked++;
  }
  uncork(): void {
    if (this.corked > 0 && --this.corked === 0) this.writeHeld();
  }
  private writeHeld(): void {
    if (this.held.length === 0) return;
    this.writes.push(this.held.length);
    for (const data of this.held.splice(0)) {
      this.written.push(JSON.parse(data.toString("utf8")));
      if (!this.stalled) this.bufferedAmount -= data.length;
    }
  }
}

interface Setup {
  bus: MemoryBus;
  hub: StreamHub;
  delivered: () => number;
  slowConsumers: () => number;
}

const running: Setup[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) {
    await s.hub.stop();
    await s.bus.close();
  }
  for (const server of servers.splice(0)) server.close();
});

async function setup(maxSocketBufferBytes = 1024, index = new UserOnlyAudienceIndex()): Promise<Setup> {
  const bus = new MemoryBus(logger);
  let delivered = 0;
  let slowConsumers = 0;
  const metrics: StreamHubMetrics = {
    delivered: (frames) => {
      delivered += frames;
    },
    executed: () => {},
    resync: () => {},
    slowConsumer: () => {
      slowConsumers++;
    },
  };
  const hub = new StreamHub({
    bus,
    audienceIndex: index,
    routes: [userUpdatedRoute],
    logger,
    replayWindowEvents: 1000,
    replayWindowSeconds: 300,
    maxSocketBufferBytes,
    metrics,
  });
  await hub.start();
  const s = { bus, hub, delivered: () => delivered, slowConsumers: () => slowConsumers };
  running.push(s);
  return s;
}

function open(s: Setup, userId: string, socket: CorkableSocket | WsStreamSocket, id = "1") {
  return s.hub.open({
    subscriptionId: id,
    userId,
    since: undefined,
    socket,
    groupKey: "doc",
    execute: (root) => ({ data: { events: root } }),
  });
}

/** Publishes all events back to back (one burst), then lets the hub's turn end. */
async function burst(s: Setup, events: BusEvent[]): Promise<void> {
  for (const e of events) await s.bus.publish(e);
  await new Promise((resolve) => setTimeout(resolve, 30));
}

describe("StreamHub socket corking", () => {
  it("writes a burst of events to each socket at once, in order, and uncorks every socket", async () => {
    const s = await setup();
    const a = new CorkableSocket();
    const b = new CorkableSocket();
    await open(s, "u1", a);
    await open(s, "u1", b, "2");
    await burst(
      s,
      [1, 2, 3, 4].map((n) => userUpdated("u1", n)),
    );
    expect(a.written.map(nOf)).toEqual([1, 2, 3, 4]);
    expect(b.written.map(nOf)).toEqual([1, 2, 3, 4]);
    expect(a.writes).toEqual([4]);
    expect(b.writes).toEqual([4]);
    expect([a.corked, b.corked]).toEqual([0, 0]);
    expect(s.delivered()).toBe(8);
    await burst(s, [userUpdated("u1", 5)]);
    expect(a.written.map(nOf)).toEqual([1, 2, 3, 4, 5]);
    expect(a.writes).toEqual([4, 1]);
  });

  it("cuts off a socket still holding too much after its writes went out, and writes nothing more to it", async () => {
    const s = await setup(1024);
    const slow = new CorkableSocket();
    slow.stalled = true;
    const healthy = new CorkableSocket();
    await open(s, "u1", slow);
    await open(s, "u1", healthy, "2");
    // Corked bytes of one turn are not a slow reader: 2 KiB written in one burst to a reading socket is fine.
    const pad = "x".repeat(700);
    await burst(
      s,
      [1, 2, 3].map((n) => userUpdated("u1", n, pad)),
    );
    expect(healthy.closedWith).toBeUndefined();
    expect(slow.closedWith).toBe(CLOSE_SLOW_CONSUMER);
    expect(slow.corked).toBe(0);
    expect(s.slowConsumers()).toBe(1);
    await burst(s, [userUpdated("u1", 4)]);
    expect(slow.written.map(nOf)).toEqual([1, 2, 3]);
    expect(healthy.written.map(nOf)).toEqual([1, 2, 3, 4]);
    expect(s.hub.openStreams()).toBe(1);
  });

  it("uncorks a socket closed in the middle of a turn", async () => {
    const s = await setup();
    const socket = new CorkableSocket();
    const iterator = await open(s, "u1", socket);
    await s.bus.publish(userUpdated("u1", 1));
    await new Promise((resolve) => setImmediate(resolve));
    // The hub wrote (corked) and the subscription ends before the turn's uncork.
    expect(socket.corked).toBe(1);
    await iterator.return?.();
    socket.close(1000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(socket.corked).toBe(0);
    expect(socket.written.map(nOf)).toEqual([1]);
  });

  it("delivers one frame to a recipient the audience lists twice", async () => {
    class ListingTwice extends UserOnlyAudienceIndex {
      override *recipients(audience: Parameters<UserOnlyAudienceIndex["recipients"]>[0]): Iterable<string> {
        for (const userId of super.recipients(audience)) yield* [userId, userId];
      }
    }
    const s = await setup(1024, new ListingTwice());
    const socket = new CorkableSocket();
    await open(s, "u1", socket);
    await burst(s, [userUpdated("u1", 1)]);
    expect(socket.written.map(nOf)).toEqual([1]);
    expect(s.delivered()).toBe(1);
  });
});

describe("StreamHub on a real WebSocket", () => {
  async function connectedPair(): Promise<{ server: WsStreamSocket; client: WebSocket }> {
    const wss = new WebSocketServer({ noServer: true });
    const http = createServer();
    servers.push(http);
    const accepted = new Promise<WsStreamSocket>((resolve) =>
      http.on("upgrade", (req, tcp, head) =>
        wss.handleUpgrade(req, tcp, head, (ws) => resolve(new WsStreamSocket(ws, req.socket))),
      ),
    );
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
    const server = await accepted;
    await new Promise((resolve) => client.once("open", resolve));
    return { server, client };
  }

  it("delivers a burst in order through the corked TCP socket", async () => {
    const s = await setup(1024 * 1024);
    const { server, client } = await connectedPair();
    const received: number[] = [];
    client.on("message", (data) => received.push(nOf(JSON.parse(String(data)))));
    await open(s, "u1", server);
    await burst(
      s,
      Array.from({ length: 50 }, (_, i) => userUpdated("u1", i + 1)),
    );
    const deadline = Date.now() + 5_000;
    while (received.length < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(received).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    client.close();
  });

  it("cuts off a reader that stopped reading with 4008 after the frames before it, in order", async () => {
    const s = await setup(64 * 1024);
    const { server, client } = await connectedPair();
    const received: number[] = [];
    client.on("message", (data) => received.push(nOf(JSON.parse(String(data)))));
    const closed = new Promise<number>((resolve) => client.once("close", (code) => resolve(code)));
    client.pause();
    await open(s, "u1", server);
    // 1 MiB frames, one per turn: the kernel's buffers fill, then the socket's own buffer passes the limit.
    const pad = "x".repeat(1024 * 1024);
    for (let n = 1; n <= 40 && s.hub.openStreams() > 0; n++) await burst(s, [userUpdated("u1", n, pad)]);
    expect(s.hub.openStreams()).toBe(0);
    expect(s.slowConsumers()).toBe(1);
    client.resume();
    expect(await closed).toBe(CLOSE_SLOW_CONSUMER);
    expect(received.length).toBeGreaterThan(0);
    expect(received.length).toBeLessThan(40);
    expect(received).toEqual(Array.from({ length: received.length }, (_, i) => i + 1));
  });
});
