import { describe, expect, it } from "vitest";
import { RevokedSessions } from "./revoked-sessions.ts";

describe("RevokedSessions", () => {
  it("refuses a recorded session until the retention ends, then forgets it", () => {
    let now = 1_000;
    const revoked = new RevokedSessions(60_000, () => now);
    revoked.record("s1");
    expect(revoked.isRevoked("s1")).toBe(true);
    expect(revoked.isRevoked("s2")).toBe(false);
    now += 59_999;
    expect(revoked.isRevoked("s1")).toBe(true);
    now += 1;
    expect(revoked.isRevoked("s1")).toBe(false);
    expect(revoked.size).toBe(0);
  });

  it("sweeps expired entries as revocations keep coming, so memory stays bounded", () => {
    let now = 0;
    const revoked = new RevokedSessions(1_000, () => now);
    for (let i = 0; i < 10_000; i++) {
      revoked.record(`s${i}`);
      now += 10;
    }
    // Only the last ~100 (1,000 ms / 10 ms) are live; sweeps every 256 records keep the rest out.
    expect(revoked.size).toBeLessThan(400);
  });
});
