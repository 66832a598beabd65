/** A domain event as it travels on the bus. `id` is unique per event and is what consumers dedupe on. */
export interface BusEvent<P = unknown> {
  /** Unique event id (snowflake string); redeliveries carry the same id. */
  id: string;
  /** Dotted type, e.g. `user.updated`; also the bus subject suffix. */
  type: string;
  /** ISO-8601 time the change was committed. */
  occurredAt: string;
  /** JSON payload, owned by the emitting service. */
  payload: P;
  /** W3C `traceparent` of the request that caused the event, so traces cross the bus (optional). */
  traceparent?: string;
}

/** Stops a subscription or consumer; idempotent. */
export interface BusSubscription {
  close(): Promise<void>;
}

/** Handler for durable consumption: resolve to acknowledge, throw to have the event redelivered. */
export type DurableHandler = (event: BusEvent) => Promise<void>;
/** Handler for fan-out delivery; errors are logged and dropped. */
export type FanoutHandler = (event: BusEvent) => void;

/**
 * Handler for ordered log delivery (`follow`): `position` is the event's place
 * in the log shared by every process, a decimal string (compare as numbers).
 */
export type FollowHandler = (event: BusEvent, position: string) => void;

/** A running `follow`: every event with a position above `startPosition` is delivered, in order. */
export interface FollowSubscription extends BusSubscription {
  /** Position of the last event in the log when the follow started (`"0"` for an empty log). */
  readonly startPosition: string;
}

/**
 * The event bus port.
 *
 * Type patterns are dotted with `*` matching one segment and `>` matching the
 * rest (NATS semantics): `user.*`, `server.>`, `>`.
 *
 * Guarantees:
 * - `publish` resolves once the bus has durably accepted the event.
 * - `consume` is at-least-once: each event is delivered to one member of the
 *   named group; it is redelivered (with backoff) until the handler resolves;
 *   order is the publish order per group, except for redeliveries and across
 *   members of a group working in parallel. Consumers dedupe by id
 *   (`processOnce`). A group exists from its first `consume` on: it receives
 *   events published after that, including those published while no member
 *   runs (within the driver's retention; memory: the bus's lifetime). All
 *   members of a group must pass the same patterns (the last one to start wins).
 * - `subscribe` is fan-out, at-most-once: every subscriber in every process
 *   sees events published after it subscribed; nothing is replayed.
 * - `follow` is fan-out in log order with positions: every durable event
 *   published after the call is delivered with its position in one gap-free,
 *   totally ordered log shared by all processes (NATS: the JetStream stream
 *   sequence; memory: a counter), so two followers see the same positions.
 * - `broadcast` is ephemeral: never stored, delivered at most once to the
 *   `subscribeEphemeral` subscribers only (never to `consume`/`follow`/`subscribe`).
 */
export interface Bus {
  /** Publishes one event; rejects if the bus did not accept it (the caller, e.g. the outbox relay, retries). */
  publish(event: BusEvent): Promise<void>;
  /** Joins durable group `group`; resolves once the group exists, so later publishes reach it. */
  consume(group: string, patterns: string[], handler: DurableHandler): Promise<BusSubscription>;
  /** Starts fan-out delivery; resolves once events published from now on will be seen. */
  subscribe(patterns: string[], handler: FanoutHandler): Promise<BusSubscription>;
  /**
   * Follows the log from its current end: resolves with the start position once every event
   * published later will reach `handler`, in log order, with its position.
   */
  follow(patterns: string[], handler: FollowHandler): Promise<FollowSubscription>;
  /** Sends an ephemeral event (typing indicators) to `subscribeEphemeral` subscribers; nothing is stored. */
  broadcast(event: BusEvent): Promise<void>;
  /** Receives ephemeral events broadcast from now on, in every process. */
  subscribeEphemeral(patterns: string[], handler: FanoutHandler): Promise<BusSubscription>;
  /** True when the driver can be shared by several processes (memory cannot). */
  readonly distributed: boolean;
  /** Resolves when the broker answers a round trip; throws when it is unreachable (readiness). */
  ping(): Promise<void>;
  /** Stops every consumer and subscription, waits for running handlers, then releases the connection. */
  close(): Promise<void>;
}
