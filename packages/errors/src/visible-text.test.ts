import { describe, expect, it } from "vitest";
import { hasVisibleCharacter } from "./visible-text.ts";

describe("hasVisibleCharacter", () => {
  it("is false for text made only of blank, zero-width, bidi and filler characters", () => {
    for (const text of [
      "",
      " ",
      "\u200b",
      "\u202e\u200b",
      "\ufeff\u2060",
      "\u3164",
      "\u2800\u2800",
      "\u115f\u1160",
      "\u00a0\u3000",
    ]) {
      expect(hasVisibleCharacter(text), JSON.stringify(text)).toBe(false);
    }
  });

  it("is true once any character shows, in any script", () => {
    for (const text of ["a", "\u200bb", "é", "日本", "👋", "\u202eabc", "ㅤx", "-"]) {
      expect(hasVisibleCharacter(text), JSON.stringify(text)).toBe(true);
    }
  });
});
