import { describe, expect, it } from "vitest";
import { ChannelAccessCache, type ChannelDirectory } from "./channel-access.ts";

const source: ChannelDirectory = {
  locate: async () => ({ serverId: "s1", type: "text" }),
  channelBits: async () => 0n,
  resolveMentions: async () => ({ userIds: [], roleIds: [], channelIds: [] }),
};

describe("ChannelAccessCache.accessMany", () => {
  it("asks once for all misses, answers hits from the cache, and asks again after invalidation", async () => {
    const cache = new ChannelAccessCache(source, { maxEntries: 100, ttlMs: 60_000 });
    const asked: string[][] = [];
    const lookup = async (missing: string[]) => {
      asked.push(missing);
      return new Map(missing.map((id) => [id, id === "c1" ? 3072n : 0n]));
    };
    expect(await cache.accessMany("u", "s1", ["c1", "c2"], lookup)).toEqual(
      new Map([
        ["c1", 3072n],
        ["c2", 0n],
      ]),
    );
    await cache.accessMany("u", "s1", ["c1", "c2", "c3"], lookup);
    expect(asked).toEqual([["c1", "c2"], ["c3"]]);
    cache.invalidateServer("s1");
    await cache.accessMany("u", "s1", ["c1"], lookup);
    expect(asked).toHaveLength(3);
  });

  it("does not cache an answer that raced an invalidation of its server", async () => {
    const cache = new ChannelAccessCache(source, { maxEntries: 100, ttlMs: 60_000 });
    let calls = 0;
    await cache.accessMany("u", "s1", ["c1"], async () => {
      calls += 1;
      cache.invalidateServer("s1");
      return new Map([["c1", 3072n]]);
    });
    await cache.accessMany("u", "s1", ["c1"], async () => {
      calls += 1;
      return new Map([["c1", 0n]]);
    });
    expect(calls).toBe(2);
  });
});
