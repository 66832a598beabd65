import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ExpiryTimers } from "./expiry-timers.ts";

describe("ExpiryTimers", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("calls back for each item at its time, in time order, with one timer", () => {
    const expired: string[] = [];
    const timers = new ExpiryTimers<string>((item) => expired.push(item));
    timers.add("late", 1_003_000);
    timers.add("early", 1_001_000);
    timers.add("early too", 1_001_000);
    timers.add("middle", 1_002_000);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(["early", "early too"]);
    vi.advanceTimersByTime(1_000);
    expect(expired).toEqual(["early", "early too", "middle"]);
    vi.advanceTimersByTime(1_000);
    expect(expired).toEqual(["early", "early too", "middle", "late"]);
    expect(timers.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("forgets deleted items, and expires at once an item whose time has passed", () => {
    const expired: string[] = [];
    const timers = new ExpiryTimers<string>((item) => expired.push(item));
    timers.add("closed", 1_001_000);
    timers.add("open", 1_002_000);
    timers.delete("closed", 1_001_000);
    vi.advanceTimersByTime(2_000);
    expect(expired).toEqual(["open"]);
    timers.add("past", 999_000);
    vi.advanceTimersByTime(0);
    expect(expired).toEqual(["open", "past"]);
  });

  it("keeps expiring the others when one callback throws", () => {
    const expired: string[] = [];
    const timers = new ExpiryTimers<string>((item) => {
      if (item === "bad") throw new Error("gone");
      expired.push(item);
    });
    timers.add("bad", 1_001_000);
    timers.add("good", 1_001_000);
    vi.advanceTimersByTime(1_000);
    expect(expired).toEqual(["good"]);
  });
});
