import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Cache } from "./cache.ts";

/** Creates the cache under test; called once per suite and closed after it. */
export type CacheFactory = () => Promise<Cache>;

/**
 * Defines the vitest tests every `Cache` driver must pass. Keys are random per test, so a shared backend is
 * fine. TTL tests use 150 ms windows and wait generously (≥ 2.5×) to stay stable on a loaded machine.
 */
export function describeCacheConformance(name: string, factory: CacheFactory): void {
  describe(`Cache conformance: ${name}`, () => {
    let cache: Cache;
    const key = (): string => `conf:${randomUUID()}`;

    beforeAll(async () => {
      cache = await factory();
    });
    afterAll(async () => {
      await cache?.close();
    });

    it("reads a missing key as undefined", async () => {
      const k = key();
      expect(await cache.get(k)).toBeUndefined();
      expect(await cache.ttl(k)).toBeUndefined();
    });

    it("sets, overwrites, gets and deletes", async () => {
      const k = key();
      await cache.set(k, "one");
      expect(await cache.get(k)).toBe("one");
      await cache.set(k, 'two ✓ {"json":true}');
      expect(await cache.get(k)).toBe('two ✓ {"json":true}');
      await cache.delete(k);
      expect(await cache.get(k)).toBeUndefined();
    });

    it("keeps an empty string distinct from missing", async () => {
      const k = key();
      await cache.set(k, "");
      expect(await cache.get(k)).toBe("");
      await cache.delete(k);
    });

    it("deletes idempotently", async () => {
      const k = key();
      await expect(cache.delete(k)).resolves.toBeUndefined();
      await cache.set(k, "x");
      await cache.delete(k);
      await expect(cache.delete(k)).resolves.toBeUndefined();
    });

    it("expires a value after its TTL", async () => {
      const k = key();
      await cache.set(k, "short", 150);
      expect(await cache.get(k)).toBe("short");
      const ttl = await cache.ttl(k);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(150);
      await sleep(400);
      expect(await cache.get(k)).toBeUndefined();
      expect(await cache.ttl(k)).toBeUndefined();
    });

    it("reports no TTL for a value set without one, and set without TTL drops an old expiry", async () => {
      const k = key();
      await cache.set(k, "forever");
      expect(await cache.ttl(k)).toBeUndefined();
      await cache.set(k, "soon", 60_000);
      expect(await cache.ttl(k)).toBeGreaterThan(59_000);
      await cache.set(k, "forever again");
      expect(await cache.ttl(k)).toBeUndefined();
      await cache.delete(k);
    });

    it("rejects non-positive TTLs", async () => {
      const k = key();
      await expect(cache.set(k, "x", 0)).rejects.toThrow(/ttlMs/);
      await expect(cache.set(k, "x", -5)).rejects.toThrow(/ttlMs/);
      await expect(cache.incr(k, Number.NaN)).rejects.toThrow(/ttlMs/);
      await expect(cache.incr(k, 1000, 1.5)).rejects.toThrow(/by/);
      expect(await cache.get(k)).toBeUndefined();
    });

    it("increments, creating the key with the TTL", async () => {
      const k = key();
      expect(await cache.incr(k, 10_000)).toBe(1);
      expect(await cache.incr(k, 10_000)).toBe(2);
      expect(await cache.incr(k, 10_000, 5)).toBe(7);
      expect(await cache.incr(k, 10_000, -10)).toBe(-3);
      expect(await cache.get(k)).toBe("-3");
      const ttl = await cache.ttl(k);
      expect(ttl).toBeGreaterThan(9_000);
      expect(ttl).toBeLessThanOrEqual(10_000);
    });

    it("increments a value set as an integer string and rejects a non-integer one", async () => {
      const k = key();
      await cache.set(k, "41");
      expect(await cache.incr(k, 10_000)).toBe(42);
      // A counter must never live forever: a key without expiry gets the window.
      expect(await cache.ttl(k)).toBeGreaterThan(9_000);
      const text = key();
      await cache.set(text, "not a number", 10_000);
      await expect(cache.incr(text, 10_000)).rejects.toThrow();
      expect(await cache.get(text)).toBe("not a number");
    });

    it("increments atomically under 200 concurrent calls", async () => {
      const k = key();
      const results = await Promise.all(Array.from({ length: 200 }, () => cache.incr(k, 10_000)));
      expect([...results].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect(await cache.get(k)).toBe("200");
    });

    it("keeps a fixed window: later increments do not extend the TTL", async () => {
      const k = key();
      expect(await cache.incr(k, 500)).toBe(1);
      await sleep(150);
      expect(await cache.incr(k, 500)).toBe(2);
      const ttl = await cache.ttl(k);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(360);
      await sleep(600);
      expect(await cache.get(k)).toBeUndefined();
      // A new window starts from scratch.
      expect(await cache.incr(k, 500)).toBe(1);
      expect(await cache.ttl(k)).toBeGreaterThan(360);
    });
  });
}
