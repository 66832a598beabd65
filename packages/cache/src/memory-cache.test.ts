import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { describeCacheConformance } from "./cache.conformance.ts";
import { MemoryCache } from "./memory-cache.ts";
import { openCache } from "./open-cache.ts";

describeCacheConformance("memory://", () => openCache("memory://"));
describeCacheConformance("memory:// with keyPrefix", () => openCache("memory://", { keyPrefix: "p:" }));

describe("MemoryCache", () => {
  it("sweeps expired entries without reads", async () => {
    const cache = new MemoryCache({ sweepIntervalMs: 20 });
    await cache.set("a", "1", 30);
    await cache.set("b", "2");
    expect(cache.size).toBe(2);
    await sleep(150);
    expect(cache.size).toBe(1);
    await cache.close();
  });

  it("drops an expired entry lazily on read", async () => {
    let now = 1_000;
    const cache = new MemoryCache({ now: () => now, sweepIntervalMs: 60_000 });
    await cache.set("a", "1", 100);
    now += 100;
    expect(cache.size).toBe(1);
    expect(await cache.get("a")).toBeUndefined();
    expect(cache.size).toBe(0);
    await cache.close();
  });

  it("refuses use after close", async () => {
    const cache = new MemoryCache();
    await cache.close();
    await expect(cache.get("a")).rejects.toThrow(/closed/);
  });

  it("accepts sweepIntervalMs in the URL and rejects unknown parameters", async () => {
    const cache = await openCache("memory://?sweepIntervalMs=1000");
    expect(cache).toBeInstanceOf(MemoryCache);
    await cache.close();
    await expect(openCache("memory://?ttl=3")).rejects.toThrow(/unknown memory cache parameter "ttl"/);
    await expect(openCache("memory://?sweepIntervalMs=0")).rejects.toThrow(/sweepIntervalMs/);
  });
});

describe("openCache", () => {
  it("rejects an unknown scheme, listing the valid ones", async () => {
    await expect(openCache("memcached://x")).rejects.toThrow(
      /unknown cache scheme "memcached:"; valid: memory:\/\/, redis:\/\/, rediss:\/\//,
    );
    await expect(openCache("")).rejects.toThrow(/valid: memory:\/\//);
  });
});
