import { describe, expect, it } from "vitest";
import { assertEventType, assertPattern, matchesPattern, redeliveryDelayMs } from "./subject-pattern.ts";

describe("subject patterns", () => {
  it.each([
    ["user.created", "user.created", true],
    ["user.*", "user.created", true],
    ["user.*", "user.created.x", false],
    ["user.*", "user", false],
    ["user.>", "user.created.x", true],
    ["user.>", "user", false],
    [">", "user", true],
    [">", "a.b.c", true],
    ["*.created", "user.created", true],
    ["*.created", "server.deleted", false],
    ["user.created", "user.created.x", false],
  ])("%s matches %s: %s", (pattern, type, expected) => {
    expect(matchesPattern(pattern, type)).toBe(expected);
  });

  it("rejects malformed types and patterns", () => {
    for (const bad of ["", "user.", ".user", "user.*", "user.>", "a b"])
      expect(() => assertEventType(bad)).toThrow();
    for (const bad of ["", "user..x", ">.user", "us*er", "a b"]) expect(() => assertPattern(bad)).toThrow();
    for (const good of [">", "*", "user.*", "user.>", "*.created"])
      expect(() => assertPattern(good)).not.toThrow();
  });

  it("backs off exponentially with a cap", () => {
    expect([1, 2, 3, 10].map(redeliveryDelayMs)).toEqual([100, 400, 1600, 30_000]);
  });
});
