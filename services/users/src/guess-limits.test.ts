import { openRateLimitStore, type RateLimitStore } from "@beep/limits";
import { createLogger } from "@beep/observability";
import type { HandlerContext } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GuessLimits, limitGuesses } from "./guess-limits.ts";

const logger = createLogger({ service: "guess-test", level: "silent" });
const settings = {
  guessLimitTargetAttempts: 3,
  guessLimitTargetWindowSeconds: 60,
  guessLimitIpAttempts: 5,
  guessLimitIpWindowSeconds: 60,
};
const context = {} as HandlerContext;

let store: RateLimitStore;
beforeEach(async () => {
  store = await openRateLimitStore("memory://");
});
afterEach(async () => {
  await store.close();
});

async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "OK";
  } catch (error) {
    const { code, details } = error as { code: string; details: { retryAfterMs?: number } };
    expect(details.retryAfterMs).toBeGreaterThan(0);
    expect(details.retryAfterMs).toBeLessThanOrEqual(60_000);
    return code;
  }
}

describe("GuessLimiter", () => {
  it("counts only the target when an RPC carries no IP, so callers never share one bucket", async () => {
    const limiter = new GuessLimits(store, settings, logger).limiter("confirmEmailChange");
    // More callers than the IP budget (5), each within its own target budget (3).
    for (let user = 0; user < 8; user++) {
      expect(await outcome(limiter.admit({ target: `user-${user}` }))).toBe("OK");
    }
    for (let i = 0; i < 2; i++) expect(await outcome(limiter.admit({ target: "user-0" }))).toBe("OK");
    expect(await outcome(limiter.admit({ target: "user-0" }))).toBe("RATE_LIMITED");
  });

  it("allows the limit per target, then answers RATE_LIMITED with retryAfterMs", async () => {
    const limiter = new GuessLimits(store, settings, logger).limiter("signInWithCode");
    const results = [];
    for (let i = 0; i < 4; i++)
      results.push(await outcome(limiter.admit({ target: "a@x.org", ip: "192.0.2.1" })));
    expect(results).toEqual(["OK", "OK", "OK", "RATE_LIMITED"]);
    // Same target however it is typed; another target still passes.
    expect(await outcome(limiter.admit({ target: " A@X.org ", ip: "192.0.2.2" }))).toBe("RATE_LIMITED");
    expect(await outcome(limiter.admit({ target: "b@x.org", ip: "192.0.2.1" }))).toBe("OK");
  });

  it("limits an IP across targets, and counts target-less attempts per IP", async () => {
    const limiter = new GuessLimits(store, settings, logger).limiter("completeSignIn");
    for (let i = 0; i < 5; i++)
      expect(await outcome(limiter.admit({ target: `t${i}`, ip: "192.0.2.9" }))).toBe("OK");
    expect(await outcome(limiter.admit({ target: "fresh", ip: "192.0.2.9" }))).toBe("RATE_LIMITED");
    expect(await outcome(limiter.admit({ ip: "192.0.2.9" }))).toBe("RATE_LIMITED");
    expect(await outcome(limiter.admit({ ip: "192.0.2.10" }))).toBe("OK");
  });

  it("keeps endpoints apart", async () => {
    const limits = new GuessLimits(store, settings, logger);
    const [one, two] = [limits.limiter("one"), limits.limiter("two")];
    for (let i = 0; i < 3; i++) await one.admit({ target: "x", ip: "192.0.2.1" });
    expect(await outcome(one.admit({ target: "x", ip: "192.0.2.1" }))).toBe("RATE_LIMITED");
    expect(await outcome(two.admit({ target: "x", ip: "192.0.2.1" }))).toBe("OK");
  });
});

describe("limitGuesses", () => {
  it("counts before the method runs, never runs it when refused, and leaves other methods alone", async () => {
    let calls = 0;
    const routes = {
      guess: async (request: { who: string }, _context: HandlerContext) => {
        calls++;
        return request.who;
      },
      other: async () => "free",
    };
    const limited = limitGuesses(routes, new GuessLimits(store, settings, logger), {
      guess: (request) => ({ target: request.who, ip: "192.0.2.1" }),
    });
    for (let i = 0; i < 3; i++) expect(await limited.guess({ who: "w" }, context)).toBe("w");
    expect(await outcome(limited.guess({ who: "w" }, context))).toBe("RATE_LIMITED");
    expect(calls).toBe(3);
    for (let i = 0; i < 10; i++) expect(await limited.other()).toBe("free");
  });
});
