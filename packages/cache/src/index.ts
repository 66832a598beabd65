export type { Cache } from "./cache.ts";
export { MemoryCache, type MemoryCacheOptions } from "./memory-cache.ts";
export { CACHE_URL_SCHEMES, type OpenCacheOptions, openCache } from "./open-cache.ts";
export { RedisCache, type RedisCacheOptions } from "./redis-cache.ts";
