import { BeepError } from "@beep/errors";
import { describe, expect, it } from "vitest";
import { parseSearchQuery, searchWords } from "./message-search.query.ts";

describe("parseSearchQuery", () => {
  it("takes words, phrases and every operator", () => {
    const parsed = parseSearchQuery(
      'Deploy "Release Notes v2" from:@Alice in:#General has:link HAS:file before:2026-03-01 after:2026-02-01',
    );
    expect(parsed.words).toEqual(["deploy"]);
    expect(parsed.phrases).toEqual(["release notes v2"]);
    expect(parsed.fromUsernames).toEqual(["alice"]);
    expect(parsed.inChannels).toEqual(["general"]);
    expect(parsed.has).toEqual(["LINK", "FILE"]);
    expect(parsed.sentBefore?.toISOString()).toBe("2026-03-01T00:00:00.000Z");
    // after: a day means after that day ended.
    expect(parsed.sentAfter?.toISOString()).toBe("2026-02-02T00:00:00.000Z");
  });

  it("splits URLs and punctuation into words, as the index does", () => {
    expect(parseSearchQuery("https://github.com/x/y-z").words).toEqual([
      "https",
      "github",
      "com",
      "x",
      "y",
      "z",
    ]);
    expect(searchWords("Ça-va, ÉTÉ!")).toEqual(["ça", "va", "été"]);
  });

  it("keeps a one-word quote as a word, drops empty quotes, runs an open quote to the end", () => {
    expect(parseSearchQuery('"hello" "" "a b').words).toEqual(["hello"]);
    expect(parseSearchQuery('"hello" "" "a b').phrases).toEqual(["a b"]);
  });

  it("searches unknown operators and bare colons as words", () => {
    expect(parseSearchQuery("note:this from:").words).toEqual(["note", "this", "from"]);
  });

  it("deduplicates and keeps the tightest dates", () => {
    const parsed = parseSearchQuery(
      "a a before:2026-05-01 before:2026-04-01 after:2026-01-01 after:2026-02-01",
    );
    expect(parsed.words).toEqual(["a"]);
    expect(parsed.sentBefore?.toISOString()).toBe("2026-04-01T00:00:00.000Z");
    expect(parsed.sentAfter?.toISOString()).toBe("2026-02-02T00:00:00.000Z");
  });

  it("refuses bad dates, unknown has: values and oversized queries with BAD_USER_INPUT on query", () => {
    for (const bad of [
      "before:2026-02-30",
      "after:yesterday",
      "has:poll",
      "x".repeat(501),
      "a b c d e f g h i j k l m n o p q",
    ]) {
      try {
        parseSearchQuery(bad);
        expect.unreachable(bad);
      } catch (error) {
        expect(error).toBeInstanceOf(BeepError);
        expect((error as BeepError).code).toBe("BAD_USER_INPUT");
      }
    }
  });

  it("returns nothing for an empty query", () => {
    expect(parseSearchQuery("   ")).toEqual({
      words: [],
      phrases: [],
      fromUsernames: [],
      inChannels: [],
      has: [],
    });
  });
});
