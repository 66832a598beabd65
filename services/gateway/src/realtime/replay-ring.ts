import type { RoutedEvent, VisibilityShift } from "./audience.ts";

/** One processed bus event that had something for clients. */
export interface RingEntry {
  /** Log position (bus `follow` position) of the event. */
  position: number;
  /** When this node processed it (ms since epoch), for the time window. */
  at: number;
  routed: readonly RoutedEvent[];
  /** The visibility change the event made, if any (kept even when nothing was routed). */
  shift?: VisibilityShift;
}

/** Limits of a {@link ReplayRing}. */
export interface ReplayRingOptions {
  /** Most entries kept (`gateway.replayWindowEvents`). */
  maxEvents: number;
  /** Oldest entry kept, in ms (`gateway.replayWindowSeconds` × 1000). */
  maxAgeMs: number;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * The bounded window of recent routed events a gateway node keeps so that a
 * stream can resume after `since` without a gap. It only stores events that
 * had routes or changed visibility; `floor` (the start position, then the last evicted entry's)
 * says from where on that record is complete: every routed event with a
 * position in (floor, last] is here, in position order.
 */
export class ReplayRing {
  private entries: (RingEntry | undefined)[] = [];
  private head = 0;
  private count = 0;
  private floorPosition: number;
  private lastPosition: number;
  private readonly now: () => number;

  constructor(
    startPosition: number,
    private readonly options: ReplayRingOptions,
  ) {
    this.floorPosition = startPosition;
    this.lastPosition = startPosition;
    this.now = options.now ?? Date.now;
  }

  /** Every routed event after this position is still in the ring. */
  get floor(): number {
    return this.floorPosition;
  }

  /** Position of the last event recorded (routed or not). */
  get last(): number {
    return this.lastPosition;
  }

  /** Number of entries held. */
  get size(): number {
    return this.count;
  }

  /** Records that the event at `position` was processed, keeping its routed events and visibility change if any. */
  record(position: number, routed: readonly RoutedEvent[], shift?: VisibilityShift): void {
    if (position <= this.lastPosition) throw new Error(`ring positions must increase (${position})`);
    this.lastPosition = position;
    if (routed.length > 0 || shift) {
      if (this.count === this.options.maxEvents) this.evictOldest();
      this.grow();
      const entry: RingEntry = shift
        ? { position, at: this.now(), routed, shift }
        : { position, at: this.now(), routed };
      this.entries[(this.head + this.count) % this.entries.length] = entry;
      this.count++;
    }
    this.evictExpired();
  }

  /** True when every routed event after `since` is still here (since within [floor, last]). */
  covers(since: number): boolean {
    this.evictExpired();
    return since >= this.floorPosition && since <= this.lastPosition;
  }

  /** Entries with a position above `since`, oldest first. */
  *after(since: number): Generator<RingEntry> {
    // Binary search for the first entry above `since`: positions increase along the ring.
    let low = 0;
    let high = this.count;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.at(mid).position <= since) low = mid + 1;
      else high = mid;
    }
    for (let i = low; i < this.count; i++) yield this.at(i);
  }

  private at(index: number): RingEntry {
    return this.entries[(this.head + index) % this.entries.length]!;
  }

  private evictExpired(): void {
    const oldest = this.now() - this.options.maxAgeMs;
    while (this.count > 0 && this.at(0).at < oldest) this.evictOldest();
  }

  private evictOldest(): void {
    const entry = this.at(0);
    this.entries[this.head] = undefined;
    this.head = (this.head + 1) % this.entries.length;
    this.count--;
    this.floorPosition = entry.position;
  }

  /** Doubles the backing array when full (amortised O(1)), so a quiet node does not preallocate the max. */
  private grow(): void {
    if (this.count < this.entries.length) return;
    const size = Math.min(Math.max(16, this.entries.length * 2), this.options.maxEvents);
    const next: (RingEntry | undefined)[] = new Array(size);
    for (let i = 0; i < this.count; i++) next[i] = this.at(i);
    this.entries = next;
    this.head = 0;
  }
}
