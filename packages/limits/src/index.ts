export { FlexibleRateLimiter } from "./flexible-rate-limiter.ts";
export { type OpenRateLimitStoreOptions, openRateLimitStore } from "./open-rate-limit-store.ts";
export type { RateLimiter, RateLimitResult, RateLimitRule, RateLimitStore } from "./rate-limiter.ts";
