import type { Logger } from "@beep/observability";
import type {
  Bus,
  BusEvent,
  BusSubscription,
  DurableHandler,
  FanoutHandler,
  FollowHandler,
  FollowSubscription,
} from "./bus.ts";
import {
  assertEventType,
  assertGroup,
  assertPatterns,
  matchesPattern,
  redeliveryDelayMs,
} from "./subject-pattern.ts";

interface Member {
  handler: DurableHandler;
  busy: boolean;
  closed: boolean;
  inflight: Promise<void>;
}

interface Pending {
  event: BusEvent;
  attempt: number;
}

interface Fanout {
  patterns: string[];
  handler: FanoutHandler;
  closed: boolean;
}

interface Follower {
  patterns: string[];
  handler: FollowHandler;
  closed: boolean;
}

/** Who receives events of one type, worked out once per type (until the subscriptions change). */
interface TypeRoutes {
  followers: Follower[];
  groups: MemoryGroup[];
  fanouts: Fanout[];
  ephemeralFanouts: Fanout[];
}

/** What a failed handler's log line names of its event. */
type EventLabel = Pick<BusEvent, "id" | "type">;

/** Event types whose routes are remembered at most (types are few; this only bounds a misuse). */
const ROUTED_TYPES_LIMIT = 1_000;

// Events are copied through JSON on publish so handlers never share objects
// with the publisher, exactly as with a networked driver: serialised once per
// publish (as a networked driver would), parsed again for each handler.
function parsed(json: string): BusEvent {
  return JSON.parse(json) as BusEvent;
}

/** One durable group: a queue that outlives its members, handed out round-robin to idle members. */
class MemoryGroup {
  patterns: string[] = [];
  readonly members: Member[] = [];
  private readonly queue: Pending[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private next = 0;

  constructor(
    private readonly name: string,
    private readonly logger: Logger,
  ) {}

  enqueue(item: Pending, front = false): void {
    if (front) this.queue.unshift(item);
    else this.queue.push(item);
    queueMicrotask(() => this.pump());
  }

  pump(): void {
    while (this.queue.length > 0) {
      const member = this.idleMember();
      if (!member) return;
      this.run(member, this.queue.shift()!);
    }
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private idleMember(): Member | undefined {
    for (let i = 0; i < this.members.length; i++) {
      const member = this.members[(this.next + i) % this.members.length]!;
      if (!member.busy && !member.closed) {
        this.next = (this.next + i + 1) % this.members.length;
        return member;
      }
    }
    return undefined;
  }

  private run(member: Member, item: Pending): void {
    member.busy = true;
    member.inflight = (async () => {
      try {
        await member.handler(item.event);
      } catch (err) {
        const delay = redeliveryDelayMs(item.attempt);
        this.logger.warn(
          {
            err,
            group: this.name,
            eventId: item.event.id,
            type: item.event.type,
            attempt: item.attempt,
            delay,
          },
          "bus handler failed; event will be redelivered",
        );
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.enqueue({ event: item.event, attempt: item.attempt + 1 }, true);
        }, delay);
        this.timers.add(timer);
      } finally {
        member.busy = false;
        queueMicrotask(() => this.pump());
      }
    })();
  }
}

/**
 * In-process bus (`memory://`). Same semantics as the NATS driver within one
 * process; groups live as long as the bus. Not shareable across processes.
 */
export class MemoryBus implements Bus {
  /** Memory cannot span processes. */
  readonly distributed = false;
  private readonly groups = new Map<string, MemoryGroup>();
  private readonly fanouts = new Set<Fanout>();
  private readonly ephemeralFanouts = new Set<Fanout>();
  private readonly followers = new Set<Follower>();
  /**
   * Routes by event type. Why: matching every subscription's patterns on every publish costs more than the
   * rest of a publish once a process runs all services (dozens of subscriptions); cleared on any change.
   */
  private readonly routes = new Map<string, TypeRoutes>();
  /** Position of the last published durable event: the log is this bus's publish order. */
  private lastPosition = 0;
  private closed = false;

  constructor(private readonly logger: Logger) {}

  /** Enqueues for every matching group and schedules fan-out delivery; never blocks on handlers. */
  async publish(event: BusEvent): Promise<void> {
    this.assertOpen();
    assertEventType(event.type);
    const json = JSON.stringify(event);
    const position = String(++this.lastPosition);
    const routes = this.routesOf(event.type);
    // What failure logs name, taken now: the publisher keeps its object.
    const about: EventLabel = { id: event.id, type: event.type };
    for (const follower of routes.followers) {
      // setImmediate callbacks run in the order they were queued, so followers see publish order.
      setImmediate(() => {
        if (follower.closed) return;
        this.runFanoutHandler(() => follower.handler(parsed(json), position), about);
      });
    }
    if (routes.groups.length > 0) {
      // One copy for the groups (queued, redelivered); parsed only when some group takes the type.
      const copy = parsed(json);
      for (const group of routes.groups) group.enqueue({ event: copy, attempt: 1 });
    }
    this.fanOut(routes.fanouts, about, json);
  }

  /** Delivers to ephemeral subscribers only; nothing is stored or numbered. */
  async broadcast(event: BusEvent): Promise<void> {
    this.assertOpen();
    assertEventType(event.type);
    const json = JSON.stringify(event);
    this.fanOut(this.routesOf(event.type).ephemeralFanouts, { id: event.id, type: event.type }, json);
  }

  /** Registers an ordered follower of the log from its current end. */
  async follow(patterns: string[], handler: FollowHandler): Promise<FollowSubscription> {
    this.assertOpen();
    assertPatterns(patterns);
    const follower: Follower = { patterns: [...patterns], handler, closed: false };
    this.followers.add(follower);
    this.routes.clear();
    return {
      startPosition: String(this.lastPosition),
      close: async () => {
        follower.closed = true;
        this.followers.delete(follower);
        this.routes.clear();
      },
    };
  }

  /** Registers a subscriber of ephemeral (broadcast) events. */
  async subscribeEphemeral(patterns: string[], handler: FanoutHandler): Promise<BusSubscription> {
    return this.addFanout(this.ephemeralFanouts, patterns, handler);
  }

  /** `json` is the event serialised: each handler gets its own parse of it. */
  private fanOut(fanouts: readonly Fanout[], about: EventLabel, json: string): void {
    for (const fanout of fanouts) {
      setImmediate(() => {
        if (fanout.closed) return;
        this.runFanoutHandler(() => fanout.handler(parsed(json)), about);
      });
    }
  }

  private routesOf(type: string): TypeRoutes {
    let routes = this.routes.get(type);
    if (routes === undefined) {
      const matching = <T extends { patterns: string[] }>(subscriptions: Iterable<T>): T[] =>
        [...subscriptions].filter((s) => s.patterns.some((p) => matchesPattern(p, type)));
      routes = {
        followers: matching(this.followers),
        groups: matching(this.groups.values()),
        fanouts: matching(this.fanouts),
        ephemeralFanouts: matching(this.ephemeralFanouts),
      };
      if (this.routes.size >= ROUTED_TYPES_LIMIT) this.routes.clear();
      this.routes.set(type, routes);
    }
    return routes;
  }

  private runFanoutHandler(run: () => void, event: EventLabel): void {
    // Promise.resolve().then() catches both a sync throw and an async handler's rejection.
    Promise.resolve()
      .then(run)
      .catch((err: unknown) =>
        this.logger.error(
          { err, eventId: event.id, type: event.type },
          "bus fan-out handler failed; dropped",
        ),
      );
  }

  private addFanout(fanouts: Set<Fanout>, patterns: string[], handler: FanoutHandler): BusSubscription {
    this.assertOpen();
    assertPatterns(patterns);
    const fanout: Fanout = { patterns: [...patterns], handler, closed: false };
    fanouts.add(fanout);
    this.routes.clear();
    return {
      close: async () => {
        fanout.closed = true;
        fanouts.delete(fanout);
        this.routes.clear();
      },
    };
  }

  /** Joins (or creates) group `group`; the group keeps queueing while it has no members. */
  async consume(group: string, patterns: string[], handler: DurableHandler): Promise<BusSubscription> {
    this.assertOpen();
    assertGroup(group);
    assertPatterns(patterns);
    let g = this.groups.get(group);
    if (!g) {
      g = new MemoryGroup(group, this.logger);
      this.groups.set(group, g);
    }
    g.patterns = [...patterns];
    this.routes.clear();
    const member: Member = { handler, busy: false, closed: false, inflight: Promise.resolve() };
    g.members.push(member);
    g.pump();
    const owner = g;
    return {
      close: async () => {
        member.closed = true;
        const i = owner.members.indexOf(member);
        if (i >= 0) owner.members.splice(i, 1);
        await member.inflight;
      },
    };
  }

  /** Registers a fan-out subscriber for events published from now on. */
  async subscribe(patterns: string[], handler: FanoutHandler): Promise<BusSubscription> {
    return this.addFanout(this.fanouts, patterns, handler);
  }

  /** Stops all delivery and waits for running handlers. */
  /** Always reachable: it lives in this process. */
  async ping(): Promise<void> {
    if (this.closed) throw new Error("bus is closed");
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const f of [...this.fanouts, ...this.ephemeralFanouts]) f.closed = true;
    for (const f of this.followers) f.closed = true;
    this.fanouts.clear();
    this.ephemeralFanouts.clear();
    this.followers.clear();
    this.routes.clear();
    const inflight: Promise<void>[] = [];
    for (const g of this.groups.values()) {
      g.stop();
      for (const m of g.members) {
        m.closed = true;
        inflight.push(m.inflight);
      }
    }
    await Promise.all(inflight);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("memory bus is closed");
  }
}
