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
 * The event bus port.
 *
 * Type patterns are dotted with `*` matching one segment and `>` matching the
 * rest (NATS semantics): `user.*`, `server.>`, `>`.
 *
 * Guarantees:
 * - `publish` resolves once the bus has durably accepted the event.
 * - `consume` is at-least-once: each event is delivered to one member of the
 *   named group; it is redelivered until the handler resolves; order is the
 *   publish order per group, except for redeliveries. Consumers dedupe by id.
 * - `subscribe` is fan-out, at-most-once: every subscriber in every process
 *   sees events published after it subscribed; nothing is replayed.
 */
export interface Bus {
  publish(event: BusEvent): Promise<void>;
  consume(group: string, patterns: string[], handler: DurableHandler): Promise<BusSubscription>;
  subscribe(patterns: string[], handler: FanoutHandler): Promise<BusSubscription>;
  /** True when the driver can be shared by several processes (memory cannot). */
  readonly distributed: boolean;
  close(): Promise<void>;
}
