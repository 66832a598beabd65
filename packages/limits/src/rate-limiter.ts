/** The answer of a rate limiter about one key. */
export interface RateLimitResult {
  /** True when the attempt fits in the key's budget (for `peek`: when one more point would). */
  allowed: boolean;
  /** How long until one more point is allowed again: 0 when allowed, > 0 otherwise. */
  retryAfterMs: number;
  /** Points left in the current window (0 when over). */
  remaining: number;
}

/**
 * The rate-limit port: a fixed budget of `points` per key per window.
 *
 * Guarantees: `consume` is atomic across every process sharing the backend
 * (redis), so N processes together never allow more than `points` per window;
 * the window starts at the first consume of a key and is not extended by
 * later ones; a refused consume still counts (an attacker cannot probe the
 * limit for free). A blocked key refuses every consume until the block ends.
 * Store failures reject (callers fail closed); they never read as "allowed".
 */
export interface RateLimiter {
  /** Spends `points` (default 1) of the key's budget. */
  consume(key: string, points?: number): Promise<RateLimitResult>;
  /** Reads the key's state without spending anything. */
  peek(key: string): Promise<RateLimitResult>;
  /** Gives `points` (default 1) back, e.g. when an attempt turns out legitimate. */
  reward(key: string, points?: number): Promise<void>;
  /** Forgets the key: a fresh budget on the next consume, any block lifted. */
  reset(key: string): Promise<void>;
  /** Refuses the key for `durationMs` from now, whatever its budget. */
  block(key: string, durationMs: number): Promise<void>;
}

/** What one limiter allows. */
export interface RateLimitRule {
  /** Names the limiter; keys of different limiters never collide. */
  name: string;
  /** Points per window. */
  points: number;
  /** Window length in whole seconds. */
  windowSeconds: number;
}

/** A backend (memory or redis) that makes limiters; one connection shared by all of them. */
export interface RateLimitStore {
  /** A limiter for one rule. */
  limiter(rule: RateLimitRule): RateLimiter;
  /** Releases connections; the limiters must not be used afterwards. */
  close(): Promise<void>;
}
