/**
 * The cache port: a shared key-value store with expiry, plus atomic counters
 * for rate limits. Values are strings; callers serialise.
 *
 * Guarantees: `incr` is atomic across processes sharing the backend (redis);
 * the TTL is set when the counter is created and not extended by later
 * increments (fixed window). Expired keys read as `undefined`.
 */
export interface Cache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Adds `by` (default 1) and returns the new value; creates the key with `ttlMs` if absent. */
  incr(key: string, ttlMs: number, by?: number): Promise<number>;
  /** Remaining time to live in ms, or undefined for a missing key or one without expiry. */
  ttl(key: string): Promise<number | undefined>;
  close(): Promise<void>;
}
