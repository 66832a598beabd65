import { describe, expect, it } from "vitest";
import { BeepError } from "./beep-error.ts";
import { assertStorableText, firstUnstorablePath, isStorableText } from "./storable-text.ts";

describe("storable text", () => {
  it("accepts any well-formed text, astral characters (surrogate pairs) included", () => {
    for (const text of [
      "",
      "hello",
      "héllo wörld",
      "👋🏽 family 👨‍👩‍👧",
      "\t\n\r",
      "\ud83d\ude00",
      "\uffff",
    ]) {
      expect(isStorableText(text), JSON.stringify(text)).toBe(true);
    }
  });

  it("refuses NUL and unpaired surrogates, wherever they are", () => {
    for (const text of [
      "\u0000",
      "a\u0000b",
      "\ud800",
      "a\ud800b",
      "\udc00",
      "x\udc00",
      "\ude00\ud83d",
      "👋\ud83d",
    ]) {
      expect(isStorableText(text), JSON.stringify(text)).toBe(false);
    }
  });

  it("names the field in the BAD_USER_INPUT it throws", () => {
    let thrown: unknown;
    try {
      assertStorableText("a\u0000", "content");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(BeepError);
    expect(thrown).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "content" } });
    expect(() => assertStorableText("fine", "content")).not.toThrow();
  });

  it("finds the first string that cannot be stored, through objects and lists, skipping bytes", () => {
    expect(firstUnstorablePath({ input: { name: "ok", tags: ["a", "b\u0000"] } }, "")).toBe(".input.tags.1");
    expect(firstUnstorablePath({ ids: ["1", "\ud800"], other: "\u0000" }, "")).toBe(".ids.1");
    const bytes = new Uint8Array(8);
    expect(
      firstUnstorablePath({ a: "👋", b: 1, c: true, d: null, e: [], f: { g: "é" }, bytes }, ""),
    ).toBeUndefined();
    expect(firstUnstorablePath(undefined, "")).toBeUndefined();
  });
});
