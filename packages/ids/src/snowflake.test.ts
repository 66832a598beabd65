import { describe, expect, it } from "vitest";
import { isSnowflake, SnowflakeGenerator, snowflakeTime } from "./snowflake.ts";

describe("SnowflakeGenerator", () => {
  it("produces strictly increasing ids, even past 4096 in one millisecond", () => {
    const generator = new SnowflakeGenerator(7);
    let previous = 0n;
    for (let i = 0; i < 20_000; i++) {
      const id = generator.nextBigInt();
      expect(id > previous).toBe(true);
      previous = id;
    }
  });

  it("encodes the creation time", () => {
    const before = Date.now();
    const id = new SnowflakeGenerator(1).next();
    const at = snowflakeTime(id).getTime();
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now() + 1);
  });

  it("rejects a worker id outside 0..1023", () => {
    expect(() => new SnowflakeGenerator(1024)).toThrow(RangeError);
  });

  it("validates id strings", () => {
    expect(isSnowflake(new SnowflakeGenerator(3).next())).toBe(true);
    expect(isSnowflake("0")).toBe(false);
    expect(isSnowflake("12a")).toBe(false);
    expect(isSnowflake("99999999999999999999")).toBe(false);
  });
});
