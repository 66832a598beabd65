/** Node's longest timer delay; a longer one would fire at once. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Calls `onExpired(item)` at each item's time, with one timer for all items: a timer per held connection
 * (a Timeout object and a closure each) is memory that grows with connections. Items due at the same
 * millisecond share a bucket (token expiries are whole seconds), so the timer wakes once per due time.
 */
export class ExpiryTimers<T> {
  private readonly due = new Map<number, Set<T>>();
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  constructor(
    private readonly onExpired: (item: T) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Calls back for `item` at `at` (epoch ms; at once if past). */
  add(item: T, at: number): void {
    let bucket = this.due.get(at);
    if (!bucket) {
      bucket = new Set();
      this.due.set(at, bucket);
    }
    bucket.add(item);
    if (at < this.armedFor) this.arm(at);
  }

  /** Forgets `item` (added with the same `at`). */
  delete(item: T, at: number): void {
    const bucket = this.due.get(at);
    // The timer stays armed: waking with nothing due only re-arms for the next time.
    if (bucket?.delete(item) && bucket.size === 0) this.due.delete(at);
  }

  /** Items waiting (for tests). */
  get size(): number {
    let size = 0;
    for (const bucket of this.due.values()) size += bucket.size;
    return size;
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(this.fire, Math.min(MAX_DELAY_MS, Math.max(0, at - this.now())));
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.now();
    let next = Number.POSITIVE_INFINITY;
    const expired: Set<T>[] = [];
    for (const [at, bucket] of this.due) {
      if (at <= now) {
        this.due.delete(at);
        expired.push(bucket);
      } else if (at < next) next = at;
    }
    if (next < Number.POSITIVE_INFINITY) this.arm(next);
    for (const bucket of expired) {
      for (const item of bucket) {
        try {
          this.onExpired(item);
        } catch {
          // One item's failure (a socket already gone) must not keep the others alive.
        }
      }
    }
  };
}
