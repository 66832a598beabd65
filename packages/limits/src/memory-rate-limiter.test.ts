import { describe, expect, it } from "vitest";
import { openRateLimitStore } from "./open-rate-limit-store.ts";
import { describeRateLimiterConformance } from "./rate-limiter.conformance.ts";

describeRateLimiterConformance("memory", () => openRateLimitStore("memory://"));

describe("openRateLimitStore", () => {
  it("refuses an unknown scheme with a clear error", async () => {
    await expect(openRateLimitStore("mem://")).rejects.toThrow(/unknown scheme "mem:".*memory:\/\//);
  });

  it("refuses a rule without points or with a fractional window", async () => {
    const store = await openRateLimitStore("memory://");
    expect(() => store.limiter({ name: "x", points: 0, windowSeconds: 1 })).toThrow(/points/);
    expect(() => store.limiter({ name: "x", points: 1, windowSeconds: 0.5 })).toThrow(/windowSeconds/);
  });
});
