import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RateLimitStore } from "./rate-limiter.ts";

/** Creates the store under test; called once per suite and closed after it. */
export type RateLimitStoreFactory = () => Promise<RateLimitStore>;

/**
 * The vitest tests every rate-limit driver must pass. Keys are random per test, so a shared backend is
 * fine. Window tests use 1 s windows and wait 2.5 s to stay stable on a loaded machine.
 */
export function describeRateLimiterConformance(name: string, factory: RateLimitStoreFactory): void {
  describe(`RateLimiter conformance: ${name}`, () => {
    let store: RateLimitStore;
    const key = (): string => `k:${randomUUID()}`;
    const limiter = (points: number, windowSeconds = 60) =>
      store.limiter({ name: `conf-${points}-${windowSeconds}`, points, windowSeconds });

    beforeAll(async () => {
      store = await factory();
    });
    afterAll(async () => {
      await store?.close();
    });

    it("allows exactly `points` consumes per window, then refuses with a retry delay", async () => {
      const l = limiter(3);
      const k = key();
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await l.consume(k));
      expect(results.map((r) => r.allowed)).toEqual([true, true, true, false, false]);
      expect(results.map((r) => r.remaining).slice(0, 3)).toEqual([2, 1, 0]);
      expect(results[3]?.retryAfterMs).toBeGreaterThan(0);
      expect(results[3]?.retryAfterMs).toBeLessThanOrEqual(60_000);
      expect(results[0]?.retryAfterMs).toBe(0);
    });

    it("keeps keys and limiters apart", async () => {
      const a = limiter(1);
      const b = store.limiter({ name: "conf-other", points: 1, windowSeconds: 60 });
      const k = key();
      expect((await a.consume(k)).allowed).toBe(true);
      expect((await a.consume(k)).allowed).toBe(false);
      expect((await a.consume(key())).allowed).toBe(true);
      expect((await b.consume(k)).allowed).toBe(true);
    });

    it("consumes several points at once", async () => {
      const l = limiter(10);
      const k = key();
      expect(await l.consume(k, 7)).toMatchObject({ allowed: true, remaining: 3 });
      expect((await l.consume(k, 4)).allowed).toBe(false);
    });

    it("is atomic under concurrent consumes", async () => {
      const l = limiter(10);
      const k = key();
      const results = await Promise.all(Array.from({ length: 30 }, () => l.consume(k)));
      expect(results.filter((r) => r.allowed)).toHaveLength(10);
    });

    it("peeks without spending", async () => {
      const l = limiter(2);
      const k = key();
      expect(await l.peek(k)).toEqual({ allowed: true, retryAfterMs: 0, remaining: 2 });
      await l.consume(k);
      expect(await l.peek(k)).toMatchObject({ allowed: true, remaining: 1 });
      expect(await l.peek(k)).toMatchObject({ allowed: true, remaining: 1 });
      await l.consume(k);
      const over = await l.peek(k);
      expect(over.allowed).toBe(false);
      expect(over.retryAfterMs).toBeGreaterThan(0);
    });

    it("rewards points back and resets a key", async () => {
      const l = limiter(2);
      const k = key();
      await l.consume(k);
      await l.consume(k);
      expect((await l.peek(k)).allowed).toBe(false);
      await l.reward(k);
      expect(await l.consume(k)).toMatchObject({ allowed: true, remaining: 0 });
      await l.consume(k);
      await l.reset(k);
      expect(await l.consume(k)).toMatchObject({ allowed: true, remaining: 1 });
      await expect(l.reset(key())).resolves.toBeUndefined();
    });

    it("blocks a key for a duration, then lets it through", async () => {
      const l = limiter(100);
      const k = key();
      await l.block(k, 1_200);
      const refused = await l.consume(k);
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterMs).toBeGreaterThan(500);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(1_200);
      expect((await l.peek(k)).allowed).toBe(false);
      await sleep(1_600);
      expect((await l.consume(k)).allowed).toBe(true);
    });

    it("starts a fresh budget when the window ends", async () => {
      const l = limiter(1, 1);
      const k = key();
      expect((await l.consume(k)).allowed).toBe(true);
      expect((await l.consume(k)).allowed).toBe(false);
      await sleep(2_500);
      expect((await l.consume(k)).allowed).toBe(true);
    });
  });
}
