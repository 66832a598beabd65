import { describe, expect, it } from "vitest";
import { matchOEmbedProvider, oembedPreview } from "./oembed.ts";

describe("matchOEmbedProvider", () => {
  it.each([
    [
      "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42",
      "youtube",
      "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    ],
    ["https://m.youtube.com/watch?v=dQw4w9WgXcQ", "youtube", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"],
    ["https://youtu.be/dQw4w9WgXcQ?si=x", "youtube", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"],
    ["https://youtube.com/shorts/dQw4w9WgXcQ", "youtube", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"],
    [
      "https://open.spotify.com/intl-pt-br/album/4aawyAB9vmqN3uQ7FjRGTy?si=1",
      "spotify",
      "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy",
    ],
    ["https://x.com/jack/status/20", "twitter", "https://twitter.com/jack/status/20"],
    ["https://mobile.twitter.com/jack/statuses/20/", "twitter", "https://twitter.com/jack/status/20"],
  ])("recognises %s", (url, provider, canonicalUrl) => {
    expect(matchOEmbedProvider(url)).toEqual({ provider, canonicalUrl });
  });

  it.each([
    ["https://www.youtube.com/watch?v=short"],
    ["https://www.youtube.com/channel/UC123"],
    ["https://youtube.com.evil.example/watch?v=dQw4w9WgXcQ"],
    ["https://open.spotify.com/user/someone"],
    ["https://x.com/jack"],
    ["https://x.com/i/spaces/1"],
    ["ftp://youtu.be/dQw4w9WgXcQ"],
    ["not a url"],
  ])("does not claim %s", (url) => {
    expect(matchOEmbedProvider(url)).toBeUndefined();
  });
});

describe("oembedPreview", () => {
  it("refuses answers that are not oEmbed objects or carry nothing to show", () => {
    expect(oembedPreview("youtube", null)).toBeUndefined();
    expect(oembedPreview("youtube", [1])).toBeUndefined();
    expect(oembedPreview("youtube", { type: "nonsense", title: "x" })).toBeUndefined();
    expect(oembedPreview("youtube", { type: "video" })).toBeUndefined();
  });

  it("keeps only an https player URL and never passes the provider's HTML on", () => {
    const preview = oembedPreview("youtube", {
      type: "video",
      title: "t",
      html: '<iframe src="javascript:alert(1)"></iframe><script>x</script>',
      thumbnail_url: "javascript:alert(1)",
    });
    expect(preview).toMatchObject({ type: "video", title: "t" });
    expect(preview?.video).toBeUndefined();
    expect(preview?.image).toBeUndefined();
    expect(JSON.stringify(preview)).not.toMatch(/<script|javascript:/);
  });

  it("maps a photo to an image preview", () => {
    expect(
      oembedPreview("twitter", { type: "photo", url: "https://pbs.example/p.jpg", width: 10, height: "20" }),
    ).toMatchObject({ type: "image", image: { url: "https://pbs.example/p.jpg", width: 10, height: 20 } });
  });
});
