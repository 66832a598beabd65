import { BeepError } from "@beep/errors";
import { describe, expect, it } from "vitest";
import { checkEmoji } from "./emoji.ts";

describe("checkEmoji", () => {
  it("accepts one emoji: plain, with a skin tone, a ZWJ family, a flag, a keycap, a bare pictograph", () => {
    for (const emoji of ["👍", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "1️⃣", "❤", "❤️"])
      expect(checkEmoji(emoji)).toBe(emoji);
  });

  it("refuses text, digits, two emoji, empty and over-long values with BAD_USER_INPUT on emoji", () => {
    for (const value of [
      "a",
      "1",
      "ok",
      "👍👍",
      "",
      " 👍",
      ":smile:",
      "<:custom:123>",
      "👨‍👩‍👧‍👦".repeat(2),
    ]) {
      expect(() => checkEmoji(value), value).toThrow(BeepError);
      try {
        checkEmoji(value);
      } catch (error) {
        expect((error as BeepError).code).toBe("BAD_USER_INPUT");
      }
    }
  });
});
