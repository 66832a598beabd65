import { describe, expect, it } from "vitest";
import { firstUnstorablePath } from "./storable-text-inputs.ts";

describe("firstUnstorablePath", () => {
  it("names the first string that cannot be stored, through objects and lists", () => {
    expect(firstUnstorablePath({ input: { name: "ok", tags: ["a", "b\u0000"] } }, "")).toBe(".input.tags.1");
    expect(firstUnstorablePath({ ids: ["1", "\ud800"], other: "\u0000" }, "")).toBe(".ids.1");
  });

  it("passes well-formed text, other scalars and nothing at all", () => {
    expect(
      firstUnstorablePath({ a: "👋", b: 1, c: true, d: null, e: [], f: { g: "é" } }, ""),
    ).toBeUndefined();
    expect(firstUnstorablePath(undefined, "")).toBeUndefined();
  });
});
