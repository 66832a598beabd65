import { describe, expect, it } from "vitest";
import type { RoutedEvent } from "./audience.ts";
import { ReplayRing } from "./replay-ring.ts";

const routed = (n: number): RoutedEvent[] => [
  { audience: { kind: "users", userIds: ["u"] }, typename: "UserUpdated", data: { n } },
];
const positions = (ring: ReplayRing, since: number) => [...ring.after(since)].map((e) => e.position);

describe("ReplayRing", () => {
  it("covers positions from its start and returns entries after since, in order", () => {
    const ring = new ReplayRing(10, { maxEvents: 100, maxAgeMs: 60_000 });
    for (let p = 11; p <= 15; p++) ring.record(p, p === 13 ? [] : routed(p));
    expect(ring.covers(9)).toBe(false);
    expect(ring.covers(10)).toBe(true);
    expect(ring.covers(15)).toBe(true);
    expect(ring.covers(16)).toBe(false);
    expect(positions(ring, 10)).toEqual([11, 12, 14, 15]);
    expect(positions(ring, 12)).toEqual([14, 15]);
    expect(positions(ring, 13)).toEqual([14, 15]);
    expect(positions(ring, 15)).toEqual([]);
  });

  it("evicts the oldest entry past maxEvents and raises the floor to it", () => {
    const ring = new ReplayRing(0, { maxEvents: 3, maxAgeMs: 60_000 });
    for (let p = 1; p <= 50; p++) ring.record(p, routed(p));
    expect(ring.size).toBe(3);
    expect(ring.floor).toBe(47);
    expect(ring.covers(46)).toBe(false);
    expect(positions(ring, 47)).toEqual([48, 49, 50]);
  });

  it("evicts entries older than maxAgeMs", () => {
    let now = 0;
    const ring = new ReplayRing(0, { maxEvents: 100, maxAgeMs: 1_000, now: () => now });
    ring.record(1, routed(1));
    now = 500;
    ring.record(2, routed(2));
    now = 1_200;
    expect(ring.covers(0)).toBe(false);
    expect(ring.covers(1)).toBe(true);
    expect(positions(ring, 1)).toEqual([2]);
  });

  it("refuses positions that do not increase", () => {
    const ring = new ReplayRing(5, { maxEvents: 10, maxAgeMs: 1_000 });
    expect(() => ring.record(5, [])).toThrow(/increase/);
  });
});
