import { redactUrl } from "@beep/observability";
import type { Cache } from "./cache.ts";
import { MemoryCache } from "./memory-cache.ts";
import { RedisCache } from "./redis-cache.ts";

/** URL schemes `openCache` understands. */
export const CACHE_URL_SCHEMES = ["memory:", "redis:", "rediss:"] as const;

/** Options shared by every cache driver. */
export interface OpenCacheOptions {
  /** Prepended to every key (e.g. `beep:` or a random test prefix) to isolate users of one backend. */
  keyPrefix?: string;
}

/**
 * Opens the cache a URL names: `memory://` (this process only; `?sweepIntervalMs=` tunes the sweeper) or
 * `redis://[:password@]host:port/db` / `rediss://…` (TLS). Each `memory://` open is a separate, empty cache.
 * Errors name the URL with its credentials redacted.
 */
export async function openCache(url: string, options: OpenCacheOptions = {}): Promise<Cache> {
  const safeUrl = redactUrl(url);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*:)/.exec(url)?.[1]?.toLowerCase();
  try {
    switch (scheme) {
      case "memory:":
        return openMemory(url, options);
      case "redis:":
      case "rediss:":
        return await RedisCache.open(url, safeUrl, options);
      default:
        throw new Error(
          `unknown cache scheme ${JSON.stringify(scheme ?? "")}; valid: memory://, redis://, rediss://`,
        );
    }
  } catch (cause) {
    throw new Error(`open cache ${safeUrl}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

function openMemory(url: string, options: OpenCacheOptions): MemoryCache {
  const params = new URL(url).searchParams;
  for (const name of params.keys()) {
    if (name !== "sweepIntervalMs") throw new Error(`unknown memory cache parameter ${JSON.stringify(name)}`);
  }
  const sweep = params.get("sweepIntervalMs");
  return new MemoryCache({
    ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
    ...(sweep === null ? {} : { sweepIntervalMs: Number(sweep) }),
  });
}
