import { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis } from "rate-limiter-flexible";
import { FlexibleRateLimiter } from "./flexible-rate-limiter.ts";
import type { RateLimitRule, RateLimitStore } from "./rate-limiter.ts";

/** Options shared by every rate-limit store. */
export interface OpenRateLimitStoreOptions {
  /** Prepended to every key (e.g. `beep:rl:` or a random test prefix). */
  keyPrefix?: string;
}

function redact(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, "//***@");
}

function checkRule(rule: RateLimitRule): void {
  if (!/^[a-z][a-z0-9_-]*$/.test(rule.name)) throw new Error(`invalid limiter name ${rule.name}`);
  if (!Number.isInteger(rule.points) || rule.points < 1) throw new Error(`${rule.name}: points must be ≥ 1`);
  if (!Number.isInteger(rule.windowSeconds) || rule.windowSeconds < 1) {
    throw new Error(`${rule.name}: windowSeconds must be a whole number ≥ 1`);
  }
}

/**
 * Opens the rate-limit store a URL names (the `cache.url`): `memory://` (this process only) or
 * `redis://…` / `rediss://…` (shared by every process on that database). Unknown scheme = clear error.
 */
export async function openRateLimitStore(
  url: string,
  options: OpenRateLimitStoreOptions = {},
): Promise<RateLimitStore> {
  const prefix = options.keyPrefix ?? "";
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*:)/.exec(url)?.[1]?.toLowerCase();
  if (scheme === "memory:") {
    return {
      limiter(rule) {
        checkRule(rule);
        const inner = new RateLimiterMemory({
          keyPrefix: `${prefix}${rule.name}`,
          points: rule.points,
          duration: rule.windowSeconds,
        });
        return new FlexibleRateLimiter(inner, rule.points);
      },
      async close() {},
    };
  }
  if (scheme === "redis:" || scheme === "rediss:") {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    // ioredis reports connection errors as events; commands still reject, so nothing is lost here.
    redis.on("error", () => undefined);
    try {
      await redis.connect();
      await redis.ping();
    } catch (cause) {
      redis.disconnect();
      throw new Error(`open rate-limit store ${redact(url)}: redis is not reachable`, { cause });
    }
    return {
      limiter(rule) {
        checkRule(rule);
        const inner = new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: `${prefix}${rule.name}`,
          points: rule.points,
          duration: rule.windowSeconds,
        });
        return new FlexibleRateLimiter(inner, rule.points);
      },
      async close() {
        await redis.quit();
      },
    };
  }
  throw new Error(
    `open rate-limit store ${redact(url)}: unknown scheme ${JSON.stringify(scheme ?? "")}; valid: memory://, redis://, rediss://`,
  );
}
