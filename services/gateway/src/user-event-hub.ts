import type { Bus, BusEvent, BusSubscription } from "@beep/bus";
import type { Logger } from "@beep/observability";
import { BoundedQueue } from "./bounded-queue.ts";

/** An event addressed to one user's own stream. */
export interface UserStreamEvent {
  /** GraphQL type name of the event (`UserUpdated`). */
  __typename: string;
  [field: string]: unknown;
}

/** Maps bus events to the user whose stream receives them, and the GraphQL shape. */
const ROUTES: Record<string, (payload: unknown) => { userId: string; event: UserStreamEvent } | undefined> = {
  "user.updated": (payload) => {
    const user = (payload as { user?: { id?: unknown } }).user;
    if (typeof user?.id !== "string") return undefined;
    return { userId: user.id, event: { __typename: "UserUpdated", user } };
  },
};

/**
 * Fans bus events out to the open `myEvents` subscriptions of this gateway
 * node: one bus subscription per node, then a lookup by user id, so the cost
 * of an event does not grow with the number of connected users.
 */
export class UserEventHub {
  private readonly listeners = new Map<string, Set<BoundedQueue<UserStreamEvent>>>();
  private subscription: BusSubscription | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly logger: Logger,
    private readonly bufferSize = 256,
  ) {}

  /** Starts listening to the bus. */
  async start(): Promise<void> {
    this.subscription = await this.bus.subscribe(Object.keys(ROUTES), (event) => this.dispatch(event));
  }

  /** Stops listening and ends every open stream. */
  async stop(): Promise<void> {
    await this.subscription?.close();
    for (const queues of this.listeners.values()) for (const queue of queues) void queue.return();
    this.listeners.clear();
  }

  /** A stream of the user's events from now on; ends when the consumer returns or falls too far behind. */
  open(userId: string): AsyncIterableIterator<UserStreamEvent> {
    const queues = this.listeners.get(userId) ?? new Set();
    this.listeners.set(userId, queues);
    const queue: BoundedQueue<UserStreamEvent> = new BoundedQueue(this.bufferSize, () => {
      queues.delete(queue);
      if (queues.size === 0 && this.listeners.get(userId) === queues) this.listeners.delete(userId);
    });
    queues.add(queue);
    return queue;
  }

  /** Open streams on this node, for metrics. */
  openStreams(): number {
    let count = 0;
    for (const queues of this.listeners.values()) count += queues.size;
    return count;
  }

  private dispatch(event: BusEvent): void {
    const routed = ROUTES[event.type]?.(event.payload);
    if (!routed) {
      this.logger.warn({ event_type: event.type, event_id: event.id }, "event without a recipient dropped");
      return;
    }
    const queues = this.listeners.get(routed.userId);
    if (!queues) return;
    for (const queue of [...queues]) {
      if (!queue.push(routed.event)) this.logger.warn({ user_id: routed.userId }, "slow subscriber cut off");
    }
  }
}
