import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { describeCacheConformance } from "./cache.conformance.ts";
import { openCache } from "./open-cache.ts";

const REDIS_URL = process.env.BEEP_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
// A random prefix per run isolates this run's keys from other runs and from real data in the same database.
const PREFIX = `beep-test:${randomUUID()}:`;

afterAll(async () => {
  // Remove what the run left (keys set without TTL); touches only this run's prefix.
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  await redis.connect();
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${PREFIX}*`, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== "0");
  await redis.quit();
});

describeCacheConformance(`redis (${REDIS_URL})`, () => openCache(REDIS_URL, { keyPrefix: PREFIX }));

describe("RedisCache", () => {
  it("stores keys under the prefix only", async () => {
    const cache = await openCache(REDIS_URL, { keyPrefix: PREFIX });
    const raw = new Redis(REDIS_URL);
    try {
      await cache.set("isolated", "v", 10_000);
      expect(await raw.get(`${PREFIX}isolated`)).toBe("v");
      expect(await raw.exists("isolated")).toBe(0);
      await cache.incr("counter", 10_000);
      expect(await raw.get(`${PREFIX}counter`)).toBe("1");
      const other = await openCache(REDIS_URL, { keyPrefix: `${PREFIX}other:` });
      expect(await other.get("isolated")).toBeUndefined();
      await other.close();
    } finally {
      await cache.close();
      await raw.quit();
    }
  });

  it("fails to open an unreachable server with the password redacted", async () => {
    const error = await openCache("redis://:s3cretPassw0rd@127.0.0.1:1/0").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/open cache redis:\/\/:\*\*\*@127\.0\.0\.1:1\/0/);
    expect((error as Error).message).not.toContain("s3cretPassw0rd");
  });
});
