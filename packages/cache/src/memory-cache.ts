import type { Cache } from "./cache.ts";
import { assertIncrement, toTtlMs } from "./cache-input.ts";

interface Entry {
  value: string;
  /** Epoch ms after which the entry is gone; undefined = never. */
  expiresAt: number | undefined;
}

/** Options of `MemoryCache`. */
export interface MemoryCacheOptions {
  /** Prepended to every key, as with redis (isolation when callers share one instance). */
  keyPrefix?: string;
  /** How often expired entries are swept (ms); default 30 s. Reads also drop expired entries lazily. */
  sweepIntervalMs?: number;
  /** Clock, for tests; default `Date.now`. */
  now?: () => number;
}

const INTEGER = /^-?\d+$/;

/**
 * A `Cache` in this process's memory. Atomic within the process only: use redis:// when services run in
 * several processes.
 */
export class MemoryCache implements Cache {
  private readonly entries = new Map<string, Entry>();
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  /** Creates an empty cache and starts its sweeper (unref'd, so it never keeps the process alive). */
  constructor(options: MemoryCacheOptions = {}) {
    this.prefix = options.keyPrefix ?? "";
    this.now = options.now ?? Date.now;
    const interval = options.sweepIntervalMs ?? 30_000;
    if (!Number.isFinite(interval) || interval <= 0) throw new RangeError("sweepIntervalMs must be positive");
    this.sweeper = setInterval(() => this.sweep(), interval);
    this.sweeper.unref();
  }

  /** Number of stored entries, expired-but-unswept ones included; for diagnostics and tests. */
  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<string | undefined> {
    return this.live(key)?.value;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.assertOpen();
    const expiresAt = ttlMs === undefined ? undefined : this.now() + toTtlMs(ttlMs, "set", key);
    this.entries.set(this.prefix + key, { value: String(value), expiresAt });
  }

  async delete(key: string): Promise<void> {
    this.assertOpen();
    this.entries.delete(this.prefix + key);
  }

  async incr(key: string, ttlMs: number, by = 1): Promise<number> {
    const ttl = toTtlMs(ttlMs, "incr", key);
    assertIncrement(by, key);
    // Synchronous from read to write: no other call can interleave, which is what makes this atomic.
    const entry = this.live(key);
    if (entry && !INTEGER.test(entry.value)) {
      throw new Error(`cache incr ${JSON.stringify(key)}: value is not an integer`);
    }
    const next = (entry ? Number(entry.value) : 0) + by;
    if (!Number.isSafeInteger(next)) throw new RangeError(`cache incr ${JSON.stringify(key)}: out of range`);
    const expiresAt = entry?.expiresAt ?? this.now() + ttl;
    this.entries.set(this.prefix + key, { value: String(next), expiresAt });
    return next;
  }

  async ttl(key: string): Promise<number | undefined> {
    const expiresAt = this.live(key)?.expiresAt;
    return expiresAt === undefined ? undefined : expiresAt - this.now();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    this.entries.clear();
  }

  /** Drops every expired entry. */
  sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) this.entries.delete(key);
    }
  }

  /** The entry if present and not expired; an expired one is removed on the way. */
  private live(key: string): Entry | undefined {
    this.assertOpen();
    const full = this.prefix + key;
    const entry = this.entries.get(full);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= this.now()) {
      this.entries.delete(full);
      return undefined;
    }
    return entry;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("memory cache is closed");
  }
}
