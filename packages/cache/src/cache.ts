/**
 * The cache port: a shared key-value store with expiry, plus atomic counters
 * for rate limits. Values are strings; callers serialise.
 *
 * Guarantees: `incr` is atomic across processes sharing the backend (redis);
 * the TTL is set when the counter is created and not extended by later
 * increments (fixed window). Expired keys read as `undefined`. TTLs are in
 * milliseconds, must be positive and are rounded up to a whole millisecond.
 */
export interface Cache {
  /** The value, or undefined when missing or expired. */
  get(key: string): Promise<string | undefined>;
  /** Stores a value; without `ttlMs` it never expires (and any previous expiry is dropped). */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Removes a key; succeeds when it is already absent. */
  delete(key: string): Promise<void>;
  /**
   * Adds `by` (default 1, an integer) and returns the new value; creates the key with `ttlMs` if absent.
   * A key without expiry (e.g. `set` without TTL) also gets `ttlMs`, so a counter can never live forever.
   * Rejects when the stored value is not an integer.
   */
  incr(key: string, ttlMs: number, by?: number): Promise<number>;
  /** Remaining time to live in ms, or undefined for a missing key or one without expiry. */
  ttl(key: string): Promise<number | undefined>;
  /** Releases connections and timers; the cache must not be used afterwards. */
  close(): Promise<void>;
}
