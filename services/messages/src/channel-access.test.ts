import { describe, expect, it } from "vitest";
import { ChannelAccessCache, type ChannelDirectory } from "./channel-access.ts";

function directory(bits: Map<string, bigint>) {
  const calls = { bits: 0, locate: 0 };
  const source: ChannelDirectory = {
    async locate(channelId) {
      calls.locate += 1;
      return { serverId: `s${channelId.slice(0, 1)}`, type: "text" };
    },
    async channelBits(userId, _serverId, channelId) {
      calls.bits += 1;
      return bits.get(`${userId}:${channelId}`) ?? 0n;
    },
    resolveMentions: async () => ({ userIds: [], roleIds: [], channelIds: [] }),
  };
  return { source, calls };
}

describe("ChannelAccessCache", () => {
  it("answers warm lookups without asking, and asks again after its server is invalidated", async () => {
    const bits = new Map([["u:1a", 3072n]]);
    const { source, calls } = directory(bits);
    const cache = new ChannelAccessCache(source, { maxEntries: 10, ttlMs: 60_000 });
    expect((await cache.access("u", "1a"))?.bits).toBe(3072n);
    await cache.access("u", "1a");
    expect(calls).toEqual({ bits: 1, locate: 1 });
    bits.set("u:1a", 0n);
    cache.invalidateServer("s2");
    expect((await cache.access("u", "1a"))?.bits).toBe(3072n);
    cache.invalidateServer("s1");
    expect((await cache.access("u", "1a"))?.bits).toBe(0n);
    expect(calls.bits).toBe(2);
  });

  it("is bounded by entry count and expires entries after the TTL", async () => {
    let now = 0;
    const { source, calls } = directory(new Map());
    const cache = new ChannelAccessCache(source, { maxEntries: 3, ttlMs: 1000, now: () => now });
    for (const user of ["a", "b", "c", "d"]) await cache.access(user, "1x");
    expect(cache.size).toBe(3);
    await cache.access("d", "1x");
    expect(calls.bits).toBe(4);
    now = 1001;
    await cache.access("d", "1x");
    expect(calls.bits).toBe(5);
  });

  it("does not cache an answer that raced an invalidation of its server", async () => {
    const { source, calls } = directory(new Map([["u:1a", 1024n]]));
    let cache: ChannelAccessCache | undefined;
    const racing: ChannelDirectory = {
      ...source,
      async channelBits(...args) {
        // The event arrives while the answer is on its way.
        cache?.invalidateServer("s1");
        return source.channelBits(...args);
      },
    };
    cache = new ChannelAccessCache(racing, { maxEntries: 10, ttlMs: 60_000 });
    expect((await cache.access("u", "1a"))?.bits).toBe(1024n);
    expect(cache.size).toBe(0);
    await cache.access("u", "1a");
    expect(calls.bits).toBe(2);
  });
});
