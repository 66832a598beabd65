import type { Logger } from "@beep/observability";
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  type ConsumerMessages,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { connect, type Msg, type NatsConnection, nanos, type Subscription } from "@nats-io/transport-node";
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

/** Options of the NATS JetStream driver. */
export interface NatsBusOptions {
  /** Logger for delivery failures and connection changes. */
  logger: Logger;
  /** Process/service name; becomes the NATS connection name (visible in server monitoring). */
  name: string;
  /** Namespace for subjects (`<prefix>.events.<type>`) and the stream (`<PREFIX>_EVENTS`); default `beep`. */
  prefix?: string;
  /** How long the stream keeps events for durable groups that are behind or offline; default 7 days. */
  maxAgeMs?: number;
  /** Window in which JetStream drops a republished event id (outbox retries); default 2 minutes. */
  duplicateWindowMs?: number;
  /** Time a handler has before an unacknowledged event is redelivered; kept alive while it runs; default 30 s. */
  ackWaitMs?: number;
  /** Events pulled ahead per group member; default 16. */
  prefetch?: number;
}

const JS_STREAM_NAME_IN_USE = 10058;
const JS_CONSUMER_NOT_FOUND = 10014;
const DAY_MS = 86_400_000;

/** Stream name used for a prefix, e.g. `beep` → `BEEP_EVENTS`. */
export function natsStreamName(prefix: string): string {
  return `${prefix.toUpperCase().replace(/[^A-Z0-9_-]/g, "_")}_EVENTS`;
}

/** Opens a JetStream-backed bus: creates or updates the stream, then returns the driver. */
export async function openNatsBus(url: string, options: NatsBusOptions): Promise<NatsBus> {
  const prefix = options.prefix ?? "beep";
  if (!/^[A-Za-z0-9_-]+$/.test(prefix)) throw new Error(`invalid bus prefix ${JSON.stringify(prefix)}`);
  const nc = await connect({
    servers: url,
    name: options.name,
    // Never give up: durable state lives on the server, so reconnecting loses nothing.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
  });
  try {
    const jsm = await jetstreamManager(nc);
    const stream = natsStreamName(prefix);
    const config = {
      name: stream,
      subjects: [`${prefix}.events.>`],
      // Limits (not interest/work-queue) retention: every group reads the same log
      // independently, and a group that is offline catches up within max_age.
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(options.maxAgeMs ?? 7 * DAY_MS),
      duplicate_window: nanos(options.duplicateWindowMs ?? 120_000),
    };
    try {
      await jsm.streams.add(config);
    } catch (err) {
      // Another process created it with other settings: converge to ours (last opener wins).
      if (!(err instanceof JetStreamApiError && err.code === JS_STREAM_NAME_IN_USE)) throw err;
      const { name: _name, ...update } = config;
      await jsm.streams.update(stream, update);
    }
    return new NatsBus(nc, jsm, jetstream(nc), stream, prefix, options);
  } catch (err) {
    await nc.close();
    throw err;
  }
}

/** NATS driver (`nats://`): JetStream durable pull consumers for `consume`, core subscriptions for `subscribe`. */
export class NatsBus implements Bus {
  /** Several processes share the same server. */
  readonly distributed = true;
  private readonly closers = new Set<() => Promise<void>>();
  private readonly logger: Logger;
  private readonly ackWaitMs: number;
  private closed = false;

  /** Use {@link openNatsBus}. */
  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    /** Name of the JetStream stream holding the events. */
    readonly stream: string,
    private readonly prefix: string,
    private readonly options: NatsBusOptions,
  ) {
    this.logger = options.logger;
    this.ackWaitMs = options.ackWaitMs ?? 30_000;
    void this.watchStatus();
  }

  /** Resolves once JetStream has stored the event; `Nats-Msg-Id` = event id drops republished duplicates. */
  async publish(event: BusEvent): Promise<void> {
    this.assertOpen();
    assertEventType(event.type);
    await this.js.publish(this.subject(event.type), JSON.stringify(event), { msgID: event.id });
  }

  /**
   * One durable pull consumer per group, named after the group. nats-server 2.9
   * allows a single `filter_subject`, so one pattern is filtered by the server
   * and several are filtered here from the whole stream (non-matching events
   * are acked and skipped): one consumer keeps per-group order and delivers an
   * event matching two patterns once.
   */
  async consume(group: string, patterns: string[], handler: DurableHandler): Promise<BusSubscription> {
    this.assertOpen();
    assertGroup(group);
    assertPatterns(patterns);
    const filter = patterns.length === 1 ? this.subject(patterns[0]!) : `${this.prefix}.events.>`;
    await this.ensureConsumer(group, filter);
    const consumer = await this.js.consumers.get(this.stream, group);
    const messages = await consumer.consume({ max_messages: this.options.prefetch ?? 16 });
    let stopping = false;
    const loop = this.runConsumer(group, patterns, handler, messages, () => stopping);
    const close = async (): Promise<void> => {
      if (stopping) return loop;
      stopping = true;
      this.closers.delete(close);
      await messages.close();
      await loop;
      // Acks are fire-and-forget: make sure the server has them before we report closed,
      // or the next member (or a consumer recreation at the ack floor) sees them again.
      await this.nc.flush().catch(() => undefined);
    };
    this.closers.add(close);
    return { close };
  }

  /**
   * One core subscription per pattern; an event matching several patterns is
   * delivered only by the first matching one, so each subscriber sees it once.
   */
  subscribe(patterns: string[], handler: FanoutHandler): Promise<BusSubscription> {
    return this.coreSubscribe(patterns, handler, (p) => this.subject(p));
  }

  /** Core NATS publish on `<prefix>.ephemeral.<type>`, outside the stream's subjects: never stored. */
  async broadcast(event: BusEvent): Promise<void> {
    this.assertOpen();
    assertEventType(event.type);
    this.nc.publish(this.ephemeralSubject(event.type), JSON.stringify(event));
  }

  /** Core subscriptions on the ephemeral subject space. */
  subscribeEphemeral(patterns: string[], handler: FanoutHandler): Promise<BusSubscription> {
    return this.coreSubscribe(patterns, handler, (p) => this.ephemeralSubject(p));
  }

  /**
   * An ordered consumer (ephemeral, no acks; the client recreates it at the
   * next sequence after a gap or a reconnect) starting right after the
   * stream's last sequence, so the positions are JetStream stream sequences,
   * the same for every process. nats-server 2.9 takes one filter subject
   * only, so the whole stream is read and patterns are filtered here.
   */
  async follow(patterns: string[], handler: FollowHandler): Promise<FollowSubscription> {
    this.assertOpen();
    assertPatterns(patterns);
    const info = await this.jsm.streams.info(this.stream);
    const startSequence = info.state.last_seq;
    const consumer = await this.js.consumers.get(this.stream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: startSequence + 1,
    });
    const messages = await consumer.consume({ max_messages: 512 });
    let closed = false;
    const loop = (async () => {
      try {
        for await (const m of messages) {
          if (closed) break;
          const event = this.decode(m);
          if (!event || !patterns.some((p) => matchesPattern(p, event.type))) continue;
          try {
            handler(event, String(m.seq));
          } catch (err) {
            this.logger.error({ err, eventId: event.id, type: event.type }, "bus follow handler failed");
          }
        }
      } catch (err) {
        if (!closed) this.logger.error({ err }, "bus follow stopped");
      }
    })();
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      this.closers.delete(close);
      await messages.close();
      await loop;
    };
    this.closers.add(close);
    return { startPosition: String(startSequence), close };
  }

  private async coreSubscribe(
    patterns: string[],
    handler: FanoutHandler,
    subjectOf: (pattern: string) => string,
  ): Promise<BusSubscription> {
    this.assertOpen();
    assertPatterns(patterns);
    let closed = false;
    const subs: Subscription[] = patterns.map((pattern, index) =>
      this.nc.subscribe(subjectOf(pattern), {
        callback: (err, msg) => {
          if (closed) return;
          if (err) {
            this.logger.error({ err, pattern }, "bus fan-out subscription failed");
            return;
          }
          const event = this.decode(msg);
          if (!event) return;
          if (patterns.slice(0, index).some((p) => matchesPattern(p, event.type))) return;
          Promise.resolve()
            .then(() => handler(event))
            .catch((e: unknown) =>
              this.logger.error(
                { err: e, eventId: event.id, type: event.type },
                "bus fan-out handler failed; dropped",
              ),
            );
        },
      }),
    );
    // The server must know the subscriptions before we promise delivery of later publishes.
    await this.nc.flush();
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      this.closers.delete(close);
      for (const s of subs) s.unsubscribe();
    };
    this.closers.add(close);
    return { close };
  }

  /** Closes consumers (waiting for running handlers) and subscriptions, then drains the connection. */
  /** One round trip to the NATS server. */
  async ping(): Promise<void> {
    if (this.closed) throw new Error("bus is closed");
    await this.nc.rtt();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.closers].map((c) => c()));
    await this.nc.drain();
  }

  private async runConsumer(
    group: string,
    patterns: string[],
    handler: DurableHandler,
    messages: ConsumerMessages,
    stopping: () => boolean,
  ): Promise<void> {
    void (async () => {
      for await (const s of messages.status()) {
        if (
          s.type === "consumer_deleted" ||
          s.type === "consumer_not_found" ||
          s.type === "stream_not_found"
        ) {
          this.logger.error({ group, status: s }, "bus consumer lost on the server");
        }
      }
    })();
    try {
      for await (const m of messages) {
        // Pulled ahead but we are closing: hand it back at once instead of waiting for ack_wait.
        if (stopping()) {
          m.nak();
          continue;
        }
        await this.deliver(group, patterns, handler, m);
      }
    } catch (err) {
      this.logger.error({ err, group }, "bus consumer stopped");
    }
  }

  private async deliver(group: string, patterns: string[], handler: DurableHandler, m: JsMsg): Promise<void> {
    const event = this.decode(m);
    if (!event) {
      m.term("undecodable event");
      return;
    }
    if (!patterns.some((p) => matchesPattern(p, event.type))) {
      m.ack();
      return;
    }
    // Long handlers must not be redelivered to another member while still running.
    const keepAlive = setInterval(() => m.working(), Math.max(100, Math.floor(this.ackWaitMs / 3)));
    try {
      await handler(event);
      m.ack();
    } catch (err) {
      const attempt = m.info.deliveryCount;
      const delay = redeliveryDelayMs(attempt);
      this.logger.warn(
        { err, group, eventId: event.id, type: event.type, attempt, delay },
        "bus handler failed; event will be redelivered",
      );
      m.nak(delay);
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async ensureConsumer(group: string, filter: string): Promise<void> {
    const config: Partial<ConsumerConfig> = {
      durable_name: group,
      description: `beep group ${group} (last started by ${this.options.name})`,
      ack_policy: AckPolicy.Explicit,
      // A new group starts at "now"; from then on the server remembers its position.
      deliver_policy: DeliverPolicy.New,
      filter_subject: filter,
      ack_wait: nanos(this.ackWaitMs),
      max_deliver: -1,
      max_ack_pending: 1000,
    };
    let existing: ConsumerInfo | undefined;
    try {
      existing = await this.jsm.consumers.info(this.stream, group);
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JS_CONSUMER_NOT_FOUND)) throw err;
    }
    if (!existing) {
      await this.jsm.consumers.add(this.stream, config);
      return;
    }
    if (existing.config.filter_subject !== filter) {
      // nats-server 2.9 accepts a filter_subject update but keeps filtering with
      // the old one, so recreate the consumer at its ack floor: nothing the
      // group has not acknowledged is lost (some acked events may come again).
      const start = existing.ack_floor.stream_seq + 1;
      this.logger.warn(
        { group, from: existing.config.filter_subject, to: filter, start },
        "bus group patterns changed; recreating its consumer at its ack floor",
      );
      await this.jsm.consumers.delete(this.stream, group);
      await this.jsm.consumers.add(this.stream, {
        ...config,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: start,
      });
    } else if (existing.config.ack_wait !== config.ack_wait) {
      const { durable_name: _d, deliver_policy: _p, filter_subject: _f, ...update } = config;
      await this.jsm.consumers.update(this.stream, group, update);
    }
  }

  private decode(m: Msg | JsMsg): BusEvent | undefined {
    try {
      return m.json<BusEvent>();
    } catch (err) {
      this.logger.error({ err, subject: m.subject }, "bus received an undecodable event");
      return undefined;
    }
  }

  private subject(typeOrPattern: string): string {
    return `${this.prefix}.events.${typeOrPattern}`;
  }

  private ephemeralSubject(typeOrPattern: string): string {
    return `${this.prefix}.ephemeral.${typeOrPattern}`;
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnect" || s.type === "error") {
        this.logger.warn(
          { status: s.type, server: "server" in s ? s.server : undefined },
          "bus connection status",
        );
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("nats bus is closed");
  }
}
