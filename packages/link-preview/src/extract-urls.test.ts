import { describe, expect, it } from "vitest";
import { extractPreviewableUrls } from "./extract-urls.ts";

describe("extractPreviewableUrls", () => {
  it("finds http and https URLs in order", () => {
    expect(extractPreviewableUrls("see https://a.example/x and http://b.example/y?q=1#h")).toEqual([
      "https://a.example/x",
      "http://b.example/y?q=1#h",
    ]);
  });

  it("deduplicates by normalised URL", () => {
    expect(extractPreviewableUrls("https://A.example/x https://a.example/x HTTPS://a.example/x")).toEqual([
      "https://a.example/x",
    ]);
  });

  it("stops at max (default 5)", () => {
    const text = Array.from({ length: 8 }, (_, i) => `https://s${i}.example/`).join(" ");
    expect(extractPreviewableUrls(text)).toHaveLength(5);
    expect(extractPreviewableUrls(text, 2)).toEqual(["https://s0.example/", "https://s1.example/"]);
    expect(extractPreviewableUrls(text, 0)).toEqual([]);
  });

  it("skips URLs in inline code spans, including longer backtick runs", () => {
    const text = "`https://code.example/` and ``a ` https://double.example/`` but https://real.example/";
    expect(extractPreviewableUrls(text)).toEqual(["https://real.example/"]);
  });

  it("keeps URLs next to an unmatched backtick", () => {
    expect(extractPreviewableUrls("oops ` https://real.example/")).toEqual(["https://real.example/"]);
  });

  it("skips URLs in fenced code blocks, closed or not", () => {
    const text = [
      "before https://one.example/",
      "```js",
      "fetch('https://fenced.example/')",
      "```",
      "~~~",
      "https://tilde.example/",
      "~~~",
      "after https://two.example/",
      "````",
      "https://unclosed.example/",
    ].join("\n");
    expect(extractPreviewableUrls(text)).toEqual(["https://one.example/", "https://two.example/"]);
  });

  it("skips <url> (link without preview) but keeps a bare copy of the same URL elsewhere", () => {
    expect(extractPreviewableUrls("<https://quiet.example/> hi")).toEqual([]);
    expect(extractPreviewableUrls("<https://quiet.example/> https://loud.example/")).toEqual([
      "https://loud.example/",
    ]);
  });

  it("trims trailing punctuation and unbalanced parentheses, keeps balanced ones", () => {
    expect(
      extractPreviewableUrls(
        "Look: https://a.example/page. (see https://b.example/x) https://en.wikipedia.org/wiki/Foo_(bar), ok!",
      ),
    ).toEqual(["https://a.example/page", "https://b.example/x", "https://en.wikipedia.org/wiki/Foo_(bar)"]);
  });

  it("reads URLs inside spoilers and emphasis", () => {
    expect(extractPreviewableUrls("||https://spoiler.example/x|| _https://em.example/_")).toEqual([
      "https://spoiler.example/x",
      "https://em.example/",
    ]);
  });

  it("reads Markdown links", () => {
    expect(
      extractPreviewableUrls("[the docs](https://docs.example/guide) and **https://bold.example/**"),
    ).toEqual(["https://docs.example/guide", "https://bold.example/"]);
  });

  it("ignores other schemes, credentials and broken URLs", () => {
    expect(
      extractPreviewableUrls(
        "ftp://f.example/ javascript:alert(1) https://user:pw@c.example/ http:// https://ok.example/",
      ),
    ).toEqual(["https://ok.example/"]);
  });
});
