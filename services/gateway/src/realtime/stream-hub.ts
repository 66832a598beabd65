import type { Bus, BusEvent, BusSubscription, FollowSubscription } from "@beep/bus";
import { BeepError } from "@beep/errors";
import type { Logger } from "@beep/observability";
import type { Audience, AudienceIndex, EventRoute, RoutedEvent, VisibilityShift } from "./audience.ts";
import { HeldOpenIterator } from "./held-open-iterator.ts";
import { ReplayRing, type RingEntry } from "./replay-ring.ts";
import { TurnCorks } from "./turn-corks.ts";

/** WebSocket close code for a socket whose unsent data exceeded `gateway.maxSocketBufferBytes` (api.md). */
export const CLOSE_SLOW_CONSUMER = 4008;

/** How far (in log positions) a `since` may be ahead of this node: another node may have delivered a bit more. */
const AHEAD_SLACK = 100_000;

/**
 * How long after a resume a visibility change concerning the user still makes the hub send ResyncRequired.
 * The user's snapshot is read fresh from the database on attach, so it can already reflect a change whose
 * event this node has not processed yet (outbox relay and bus lag): the replay (or the events up to that
 * change) then used visibility newer than the events. When that late event arrives, the client is told to
 * refetch. Bounds the lag this covers.
 */
const RESUME_GRACE_MS = 10_000;

/** Why a stream starts with `ResyncRequired`. */
export type ResyncReason = "WINDOW_EXCEEDED" | "UNKNOWN_POSITION" | "VISIBILITY_CHANGED";

/** The root value the `events` selection is executed on: one envelope. */
export interface StreamRoot {
  seq: string;
  event: { __typename: string; [field: string]: unknown };
}

/** The part of a WebSocket the hub writes to. */
export interface StreamSocket {
  /** Frames are sent as UTF-8 Buffers with `binary: false` (WebSocket text frames). */
  send(data: Buffer, options: { binary: boolean }): void;
  readonly bufferedAmount: number;
  /** 1 = open (WebSocket readyState). */
  readonly readyState: number;
  close(code: number, reason: string): void;
  /**
   * Holds back this socket's writes until {@link uncork} (net.Socket semantics, calls nest). When present,
   * the hub corks a socket on its first frame of an event-loop turn and uncorks every written socket once
   * after the turn, so a burst costs one write per socket; the slow-consumer check then runs after the uncork.
   */
  cork?(): void;
  uncork?(): void;
}

/** One `events` subscription asking to go live. */
export interface StreamRequest {
  /** The graphql-ws subscription id, stitched into every frame. */
  subscriptionId: string;
  userId: string;
  /** The `since` argument as sent (validated here). */
  since: string | null | undefined;
  socket: StreamSocket;
  /** Subscriptions with equal keys (document, operation, variables) share one execution per event. */
  groupKey: string;
  /** Executes the subscription's selection on one envelope; the result is sent as the frame payload. */
  execute(root: StreamRoot): unknown;
}

/** Counters the hub reports (Prometheus in production). */
export interface StreamHubMetrics {
  delivered(frames: number): void;
  executed(): void;
  resync(reason: ResyncReason): void;
  slowConsumer(): void;
}

/** Options of {@link StreamHub}. */
export interface StreamHubOptions {
  bus: Bus;
  audienceIndex: AudienceIndex;
  routes: readonly EventRoute[];
  logger: Logger;
  /** `gateway.replayWindowEvents`. */
  replayWindowEvents: number;
  /** `gateway.replayWindowSeconds`. */
  replayWindowSeconds: number;
  /** `gateway.maxSocketBufferBytes`: a socket holding more unsent bytes is closed with {@link CLOSE_SLOW_CONSUMER}. */
  maxSocketBufferBytes: number;
  metrics?: StreamHubMetrics;
  /** Clock, for tests. */
  now?: () => number;
}

interface Subscriber {
  readonly subscriptionId: string;
  readonly userId: string;
  readonly socket: StreamSocket;
  readonly execute: (root: StreamRoot) => unknown;
  readonly group: Group;
  /** Positions at or below this were replayed, skipped or precede the subscription. */
  after: number;
  closed: boolean;
  attached: boolean;
  /** The fan-out that last delivered to this subscriber (a recipient listed twice gets one frame). */
  fanOut: number;
  /** Frames waiting for an asynchronous execution, sent in order. */
  backlog: number;
  /** The last of those frames; only while backlog > 0. */
  tail: Promise<void> | undefined;
  iterator: HeldOpenIterator;
  /** Resumed (replayed or skipped ahead) until this time (ms): see {@link RESUME_GRACE_MS}. */
  graceUntil?: number;
}

/** Open subscriptions with equal group keys: executed once per event for all of them. */
interface Group {
  readonly key: string;
  members: number;
  /** The fan-out {@link Group.rendering} belongs to. */
  fanOut: number;
  rendering: Rendering | undefined;
}

/** One execution's payload and the frames made of it, shared by every subscriber of a group. */
interface Rendering {
  readonly payload: Payload;
  /** Frames differ only by subscription id (clients mostly reuse the same ids): one UTF-8 frame per id. */
  frameId?: string;
  frame?: Buffer;
  otherFrames?: Map<string, Buffer>;
}

/** A frame payload; undefined when the execution failed (logged, nothing sent). */
type Payload = string | undefined | Promise<string | undefined>;

const noMetrics: StreamHubMetrics = {
  delivered: () => {},
  executed: () => {},
  resync: () => {},
  slowConsumer: () => {},
};

/** Parses `events(since:)`: a decimal log position, or nothing. Anything else is BAD_USER_INPUT. */
export function parseSince(since: string | null | undefined): number | undefined {
  if (since === null || since === undefined) return undefined;
  const position = /^(0|[1-9][0-9]{0,15})$/.test(since) ? Number(since) : Number.NaN;
  if (!Number.isSafeInteger(position)) {
    throw new BeepError("BAD_USER_INPUT", "since must be a seq received from this stream", {
      field: "since",
    });
  }
  return position;
}

/**
 * The per-node real-time stream: one `bus.follow(">")`, events processed
 * strictly in log order (audience index first, then routes, then delivery),
 * a bounded ring of recent routed events for resume, and delivery that
 * executes each selection once per group of equal subscriptions and writes
 * the same payload bytes to every socket of the group.
 */
export class StreamHub {
  private readonly byUser = new Map<string, Set<Subscriber>>();
  /** Recently resumed subscribers (see {@link RESUME_GRACE_MS}). */
  private readonly graced = new Set<Subscriber>();
  private readonly bySocket = new Map<StreamSocket, Set<Subscriber>>();
  private readonly groups = new Map<string, Group>();
  /** Sockets written in this event-loop turn, uncorked after it. */
  private readonly corks = new TurnCorks<StreamSocket>((socket) => this.checkBuffered(socket));
  /** Counts fan-outs, to tell this one's renderings from earlier ones without a map per event. */
  private fanOuts = 0;
  private readonly pending: { event: BusEvent; position: number }[] = [];
  private readonly metrics: StreamHubMetrics;
  private follow: FollowSubscription | undefined;
  private ephemeral: BusSubscription | undefined;
  private ring: ReplayRing | undefined;
  private pumping = false;
  private openCount = 0;

  constructor(private readonly options: StreamHubOptions) {
    this.metrics = options.metrics ?? noMetrics;
  }

  /** Follows the bus from its current end; streams can open once this resolves. */
  async start(): Promise<void> {
    this.follow = await this.options.bus.follow([">"], (event, position) => {
      this.pending.push({ event, position: Number(position) });
      if (!this.pumping) void this.pump();
    });
    this.ring = new ReplayRing(Number(this.follow.startPosition), {
      maxEvents: this.options.replayWindowEvents,
      maxAgeMs: this.options.replayWindowSeconds * 1000,
      now: this.options.now,
    });
    this.ephemeral = await this.options.bus.subscribeEphemeral([">"], (event) =>
      this.deliverEphemeral(event),
    );
  }

  /** Stops following and ends every open stream. */
  async stop(): Promise<void> {
    await this.follow?.close();
    await this.ephemeral?.close();
    for (const subscribers of [...this.bySocket.values()])
      for (const subscriber of subscribers) subscriber.iterator.end();
  }

  /** Open `events` streams on this node. */
  openStreams(): number {
    return this.openCount;
  }

  /** Position of the last event this node processed. */
  lastPosition(): number {
    return this.requireRing().last;
  }

  /**
   * Attaches the user, then (synchronously, between two processed events)
   * replays what the ring holds after `since` for them, or starts with
   * ResyncRequired, and goes live: no gap, no duplicate. Resolves with the
   * iterator graphql-ws holds; frames are written to the socket directly.
   */
  async open(request: StreamRequest): Promise<AsyncIterableIterator<never>> {
    const since = parseSince(request.since);
    const ring = this.requireRing();
    // Only what delivery needs is kept per subscription (not the request): held streams are many.
    const subscriber: Subscriber = {
      subscriptionId: request.subscriptionId,
      userId: request.userId,
      socket: request.socket,
      execute: request.execute,
      group: this.joinGroup(request.groupKey),
      after: 0,
      closed: false,
      attached: false,
      fanOut: 0,
      backlog: 0,
      tail: undefined,
      iterator: new HeldOpenIterator(() => this.remove(subscriber)),
    };
    await this.options.audienceIndex.attach(request.userId);
    subscriber.attached = true;
    if (subscriber.iterator.done) {
      // Completed (or socket closed) while attaching.
      subscriber.closed = true;
      this.leaveGroup(subscriber.group);
      this.options.audienceIndex.detach(request.userId);
      return subscriber.iterator;
    }
    const last = ring.last;
    subscriber.after = last;
    if (since !== undefined) {
      if (since > last) {
        if (since - last > AHEAD_SLACK) this.resync(subscriber, "UNKNOWN_POSITION", last);
        // Another node already delivered up to `since`: skip until this node gets there.
        else {
          subscriber.after = since;
          this.grace(subscriber);
        }
      } else if (ring.covers(since)) {
        // Replay filters by the visibility of now; if this user's changed during the gap, that would hand over
        // events they could not see then (or drop ones they could): the client refetches instead.
        let shifted = false;
        for (const entry of ring.after(since)) {
          if (entry.shift && this.shiftConcerns(entry.shift, request.userId)) {
            shifted = true;
            break;
          }
        }
        if (shifted) this.resync(subscriber, "VISIBILITY_CHANGED", last);
        else {
          for (const entry of ring.after(since)) this.replay(subscriber, entry);
          this.grace(subscriber);
        }
      } else {
        this.resync(subscriber, "WINDOW_EXCEEDED", last);
      }
    }
    this.register(subscriber);
    return subscriber.iterator;
  }

  private replay(subscriber: Subscriber, entry: RingEntry): void {
    for (const routed of entry.routed) {
      if (!this.includes(routed.audience, subscriber.userId)) continue;
      const rendering = { payload: this.render(subscriber.execute, rootOf(routed, String(entry.position))) };
      if (this.deliver(subscriber, rendering)) this.metrics.delivered(1);
    }
  }

  private grace(subscriber: Subscriber): void {
    subscriber.graceUntil = (this.options.now ?? Date.now)() + RESUME_GRACE_MS;
    this.graced.add(subscriber);
  }

  /** A visibility change reached this node shortly after streams resumed: those it concerns must refetch. */
  private resyncGraced(shift: VisibilityShift, position: number, last: number): void {
    const now = (this.options.now ?? Date.now)();
    for (const subscriber of [...this.graced]) {
      if (subscriber.closed || (subscriber.graceUntil ?? 0) < now) {
        this.graced.delete(subscriber);
      } else if (position > subscriber.after && this.shiftConcerns(shift, subscriber.userId)) {
        this.resync(subscriber, "VISIBILITY_CHANGED", last);
      }
    }
  }

  private resync(subscriber: Subscriber, reason: ResyncReason, last: number): void {
    this.metrics.resync(reason);
    const root: StreamRoot = { seq: String(last), event: { __typename: "ResyncRequired", reason } };
    if (this.deliver(subscriber, { payload: this.render(subscriber.execute, root) }))
      this.metrics.delivered(1);
  }

  private joinGroup(key: string): Group {
    let group = this.groups.get(key);
    if (!group) {
      group = { key, members: 0, fanOut: 0, rendering: undefined };
      this.groups.set(key, group);
    }
    group.members++;
    return group;
  }

  private leaveGroup(group: Group): void {
    if (--group.members === 0) this.groups.delete(group.key);
  }

  private register(subscriber: Subscriber): void {
    const forUser = this.byUser.get(subscriber.userId) ?? new Set();
    forUser.add(subscriber);
    this.byUser.set(subscriber.userId, forUser);
    const forSocket = this.bySocket.get(subscriber.socket) ?? new Set();
    forSocket.add(subscriber);
    this.bySocket.set(subscriber.socket, forSocket);
    this.openCount++;
  }

  private remove(subscriber: Subscriber): void {
    if (subscriber.closed) return;
    subscriber.closed = true;
    this.graced.delete(subscriber);
    const forUser = this.byUser.get(subscriber.userId);
    if (forUser?.delete(subscriber)) {
      this.openCount--;
      if (forUser.size === 0) this.byUser.delete(subscriber.userId);
    }
    const forSocket = this.bySocket.get(subscriber.socket);
    if (forSocket?.delete(subscriber) && forSocket.size === 0) this.bySocket.delete(subscriber.socket);
    this.leaveGroup(subscriber.group);
    if (subscriber.attached) this.options.audienceIndex.detach(subscriber.userId);
  }

  /** Processes followed events one at a time, in log order. */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      let next = this.pending.shift();
      while (next) {
        await this.process(next.event, next.position);
        next = this.pending.shift();
      }
    } finally {
      this.pumping = false;
    }
  }

  private async process(event: BusEvent, position: number): Promise<void> {
    let shift: VisibilityShift | undefined;
    try {
      shift = await this.options.audienceIndex.observe(event);
    } catch (err) {
      this.options.logger.error({ err, event_type: event.type, event_id: event.id }, "audience index failed");
    }
    const routed: RoutedEvent[] = [];
    for (const route of this.options.routes) {
      try {
        routed.push(...route(event));
      } catch (err) {
        this.options.logger.error({ err, event_type: event.type, event_id: event.id }, "event route failed");
      }
    }
    const ring = this.requireRing();
    if (shift && this.graced.size > 0) this.resyncGraced(shift, position, ring.last);
    // Ring and delivery in the same synchronous step: a stream opening in between sees both or neither.
    ring.record(position, routed, shift);
    for (const r of routed) this.fanOut(r, position);
  }

  /**
   * Delivers to every open subscriber of the audience, executing the selection once per group (on the
   * group's first subscriber in this fan-out). No per-event maps: a group and a subscriber remember the
   * fan-out they were last part of.
   */
  private fanOut(routed: RoutedEvent, position: number, seq = String(position)): void {
    const fanOut = ++this.fanOuts;
    let root: StreamRoot | undefined;
    let delivered = 0;
    for (const userId of this.options.audienceIndex.recipients(routed.audience)) {
      const subscribers = this.byUser.get(userId);
      if (!subscribers) continue;
      for (const subscriber of subscribers) {
        if (position <= subscriber.after || subscriber.fanOut === fanOut) continue;
        subscriber.fanOut = fanOut;
        const { group } = subscriber;
        if (group.fanOut !== fanOut || !group.rendering) {
          root ??= rootOf(routed, seq);
          group.fanOut = fanOut;
          group.rendering = { payload: this.render(subscriber.execute, root) };
        }
        if (this.deliver(subscriber, group.rendering)) delivered++;
      }
    }
    if (delivered > 0) this.metrics.delivered(delivered);
  }

  /** Ephemeral events (typing) are routed and delivered at once, never stored; seq = last durable position. */
  private deliverEphemeral(event: BusEvent): void {
    if (!this.ring) return;
    for (const route of this.options.routes) {
      let routed: RoutedEvent[];
      try {
        routed = route(event);
      } catch (err) {
        this.options.logger.error({ err, event_type: event.type }, "event route failed");
        continue;
      }
      for (const r of routed) this.fanOut(r, Number.MAX_SAFE_INTEGER, String(this.ring.last));
    }
  }

  /** Executes once and serialises once; the same string (or promise of it) goes to every subscriber of a group. */
  private render(execute: (root: StreamRoot) => unknown, root: StreamRoot): Payload {
    this.metrics.executed();
    const failed = (err: unknown): undefined => {
      this.options.logger.error({ err, typename: root.event.__typename }, "stream event execution failed");
      return undefined;
    };
    try {
      const result = execute(root);
      if (result instanceof Promise) return result.then((value) => JSON.stringify(value), failed);
      return JSON.stringify(result);
    } catch (err) {
      return failed(err);
    }
  }

  /** Writes the rendering's frame now, or after the frames before it; true when written now. */
  private deliver(subscriber: Subscriber, rendering: Rendering): boolean {
    if (subscriber.closed) return false;
    const { payload } = rendering;
    if (subscriber.backlog === 0 && !(payload instanceof Promise)) {
      return payload !== undefined && this.write(subscriber, payload, rendering);
    }
    // An asynchronous execution: later frames wait behind it so order is kept per subscription.
    subscriber.backlog++;
    subscriber.tail = (subscriber.tail ?? Promise.resolve())
      .then(() => payload)
      .then((json) => {
        if (json !== undefined && this.write(subscriber, json, rendering)) this.metrics.delivered(1);
      })
      .finally(() => {
        if (--subscriber.backlog === 0) subscriber.tail = undefined;
      });
    return false;
  }

  private write(subscriber: Subscriber, payload: string, rendering: Rendering): boolean {
    const { socket } = subscriber;
    if (subscriber.closed || socket.readyState !== 1) return false;
    let corked: boolean;
    try {
      const frame = frameOf(rendering, subscriber.subscriptionId, payload);
      corked = this.corks.hold(socket);
      socket.send(frame, TEXT_FRAME);
    } catch (err) {
      this.options.logger.warn({ err }, "stream frame not sent");
      return false;
    }
    // A corked socket is checked once its writes went out (what is corked is not unsent data of a slow reader).
    if (!corked) this.checkBuffered(socket);
    return true;
  }

  private checkBuffered(socket: StreamSocket): void {
    if (socket.readyState === 1 && socket.bufferedAmount > this.options.maxSocketBufferBytes)
      this.cutOff(socket);
  }

  /** A socket that does not read fast enough: closed, and nothing more is queued for it. */
  private cutOff(socket: StreamSocket): void {
    this.metrics.slowConsumer();
    this.options.logger.warn({ buffered: socket.bufferedAmount }, "slow consumer disconnected");
    for (const subscriber of [...(this.bySocket.get(socket) ?? [])]) this.remove(subscriber);
    socket.close(CLOSE_SLOW_CONSUMER, "Slow consumer");
  }

  /**
   * True when the change may have altered what this user saw during a gap: their own membership, a server
   * they belong to now (its channels or roles), or a deleted server (its former members are unknown now).
   */
  private shiftConcerns(shift: VisibilityShift, userId: string): boolean {
    if (shift.serverDeleted) return true;
    if (shift.userId !== undefined) return shift.userId === userId;
    return this.includes({ kind: "server", serverId: shift.serverId }, userId);
  }

  private includes(audience: Audience, userId: string): boolean {
    if (audience.kind === "users") return audience.userIds.includes(userId);
    for (const recipient of this.options.audienceIndex.recipients(audience))
      if (recipient === userId) return true;
    return false;
  }

  private requireRing(): ReplayRing {
    if (!this.ring) throw new BeepError("UNAVAILABLE", "The event stream is starting");
    return this.ring;
  }
}

const TEXT_FRAME = { binary: false };

/** The frame of `payload` for one subscription id, made once per id and rendering. */
function frameOf(rendering: Rendering, id: string, payload: string): Buffer {
  if (rendering.frameId === id) return rendering.frame!;
  let frame = rendering.otherFrames?.get(id);
  if (frame) return frame;
  frame = Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`);
  if (rendering.frameId === undefined) {
    rendering.frameId = id;
    rendering.frame = frame;
  } else {
    rendering.otherFrames ??= new Map();
    rendering.otherFrames.set(id, frame);
  }
  return frame;
}

function rootOf(routed: RoutedEvent, seq: string): StreamRoot {
  return { seq, event: { ...routed.data, __typename: routed.typename } };
}
