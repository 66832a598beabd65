import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { openRateLimitStore } from "./open-rate-limit-store.ts";
import { describeRateLimiterConformance } from "./rate-limiter.conformance.ts";

const REDIS_URL = process.env.BEEP_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
// A random prefix per run isolates this run's keys from other runs and from real data.
const PREFIX = `beep-test:${randomUUID()}:`;

afterAll(async () => {
  const redis = new Redis(REDIS_URL);
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${PREFIX}*`, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== "0");
  await redis.quit();
});

describeRateLimiterConformance(`redis (${REDIS_URL})`, () =>
  openRateLimitStore(REDIS_URL, { keyPrefix: PREFIX }),
);

describe("redis rate-limit store", () => {
  it("shares one budget between two stores on the same database (two processes)", async () => {
    const one = await openRateLimitStore(REDIS_URL, { keyPrefix: PREFIX });
    const two = await openRateLimitStore(REDIS_URL, { keyPrefix: PREFIX });
    try {
      const rule = { name: "shared", points: 2, windowSeconds: 60 };
      const key = randomUUID();
      expect((await one.limiter(rule).consume(key)).allowed).toBe(true);
      expect((await two.limiter(rule).consume(key)).allowed).toBe(true);
      expect((await one.limiter(rule).consume(key)).allowed).toBe(false);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it("fails to open an unreachable server with the password redacted", async () => {
    const error = await openRateLimitStore("redis://:s3cretPassw0rd@127.0.0.1:1/0").catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/redis:\/\/\*\*\*@127\.0\.0\.1:1\/0/);
    expect((error as Error).message).not.toContain("s3cretPassw0rd");
  });
});
