import { type RateLimiterAbstract, RateLimiterRes } from "rate-limiter-flexible";
import type { RateLimiter, RateLimitResult } from "./rate-limiter.ts";

/** Adapts a rate-limiter-flexible limiter (memory or redis) to the `RateLimiter` port. */
export class FlexibleRateLimiter implements RateLimiter {
  constructor(
    private readonly inner: RateLimiterAbstract,
    private readonly points: number,
  ) {}

  async consume(key: string, points = 1): Promise<RateLimitResult> {
    try {
      const res = await this.inner.consume(key, points);
      return { allowed: true, retryAfterMs: 0, remaining: res.remainingPoints };
    } catch (error) {
      // rate-limiter-flexible rejects with a RateLimiterRes when over the limit, with an Error on store failure.
      if (error instanceof RateLimiterRes) {
        return { allowed: false, retryAfterMs: Math.max(1, error.msBeforeNext), remaining: 0 };
      }
      throw new Error(`rate limiter: consume failed`, { cause: error });
    }
  }

  async peek(key: string): Promise<RateLimitResult> {
    const res = await this.inner.get(key);
    if (!res) return { allowed: true, retryAfterMs: 0, remaining: this.points };
    const remaining = Math.max(0, this.points - res.consumedPoints);
    return remaining > 0
      ? { allowed: true, retryAfterMs: 0, remaining }
      : { allowed: false, retryAfterMs: Math.max(1, res.msBeforeNext), remaining: 0 };
  }

  async reward(key: string, points = 1): Promise<void> {
    await this.inner.reward(key, points);
  }

  async reset(key: string): Promise<void> {
    await this.inner.delete(key);
  }

  async block(key: string, durationMs: number): Promise<void> {
    if (!(durationMs > 0)) throw new Error(`block duration must be positive, got ${durationMs}`);
    await this.inner.block(key, durationMs / 1000);
  }
}
