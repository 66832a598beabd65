import { Redis } from "ioredis";
import type { Cache } from "./cache.ts";
import { assertIncrement, toTtlMs } from "./cache-input.ts";

// INCRBY and the expiry in one script, so no other client sees a counter without its window and a crash
// between the two cannot leave a counter that never expires. PTTL < 0 covers "just created" and
// "exists without expiry"; a running window is never extended.
const INCR_SCRIPT = `
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return value
`;

/** The custom command `defineCommand` adds (EVALSHA with a fallback to EVAL, key prefixed by ioredis). */
interface WithIncrCommand {
  beepIncrWithTtl(key: string, by: number, ttlMs: number): Promise<number>;
}

/** Options of `RedisCache`. */
export interface RedisCacheOptions {
  /** Prepended to every key by ioredis, so several deployments or tests can share one database. */
  keyPrefix?: string;
}

/** A `Cache` on Redis (or Valkey); atomic across every process that uses the same database. */
export class RedisCache implements Cache {
  private readonly redis: Redis & WithIncrCommand;
  private readonly label: string;

  private constructor(redis: Redis, label: string) {
    redis.defineCommand("beepIncrWithTtl", { numberOfKeys: 1, lua: INCR_SCRIPT });
    this.redis = redis as Redis & WithIncrCommand;
    this.label = label;
  }

  /**
   * Connects and waits until the server answers, so a wrong URL fails at start-up. `safeUrl` (credentials
   * already redacted) only labels errors.
   */
  static async open(url: string, safeUrl: string, options: RedisCacheOptions = {}): Promise<RedisCache> {
    const redis = new Redis(url, {
      lazyConnect: true,
      keyPrefix: options.keyPrefix ?? "",
      // Fail a command after a few reconnect attempts instead of queueing it forever during an outage.
      maxRetriesPerRequest: 3,
    });
    // ioredis emits connection errors as events; without a listener Node would print them as unhandled.
    redis.on("error", () => undefined);
    try {
      await redis.connect();
      await redis.ping();
    } catch (cause) {
      redis.disconnect();
      throw new Error(`redis at ${safeUrl} is not reachable (${describe(cause)})`, { cause });
    }
    return new RedisCache(redis, safeUrl);
  }

  async get(key: string): Promise<string | undefined> {
    try {
      return (await this.redis.get(key)) ?? undefined;
    } catch (cause) {
      throw this.error("get", key, cause);
    }
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    const ttl = ttlMs === undefined ? undefined : toTtlMs(ttlMs, "set", key);
    try {
      if (ttl === undefined) await this.redis.set(key, value);
      else await this.redis.set(key, value, "PX", ttl);
    } catch (cause) {
      throw this.error("set", key, cause);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.redis.del(key);
    } catch (cause) {
      throw this.error("delete", key, cause);
    }
  }

  async incr(key: string, ttlMs: number, by = 1): Promise<number> {
    const ttl = toTtlMs(ttlMs, "incr", key);
    assertIncrement(by, key);
    try {
      return await this.redis.beepIncrWithTtl(key, by, ttl);
    } catch (cause) {
      throw this.error("incr", key, cause);
    }
  }

  async ttl(key: string): Promise<number | undefined> {
    try {
      const ms = await this.redis.pttl(key);
      // -2: missing, -1: no expiry.
      return ms < 0 ? undefined : ms;
    } catch (cause) {
      throw this.error("ttl", key, cause);
    }
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      // Already closed or the server is gone: either way nothing is left to release but the socket.
      this.redis.disconnect();
    }
  }

  private error(op: string, key: string, cause: unknown): Error {
    return new Error(`cache ${op} ${JSON.stringify(key)} on ${this.label}: ${describe(cause)}`, { cause });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
