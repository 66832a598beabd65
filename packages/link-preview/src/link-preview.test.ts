import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchLinkPreview, type LinkPreviewOptions } from "./link-preview.ts";
import { type LocalServer, startLocalServer } from "./local-server.fixture.ts";
import { SafeFetchError } from "./safe-fetch.ts";

let server: LocalServer;
const oembedRequests: URL[] = [];

const OPENGRAPH_PAGE = `<!doctype html>
<html><head>
<meta charset="utf-8">
<title>Fallback title</title>
<meta property="og:title" content="  The &amp; Article\n Title ">
<meta property="og:description" content="What it is about.">
<meta property="og:site_name" content="Example News">
<meta property="og:image" content="/img/cover.png">
<meta property="og:image:width" content="1200">
<meta property="og:image:height" content="630">
<meta name="theme-color" content="#0AF">
</head><body><h1>hi</h1></body></html>`;

const TWITTER_CARD_PAGE = `<html><head><title>Plain</title>
<meta name="twitter:title" content="Card title"><meta name="twitter:image" content="https://cdn.example/c.jpg">
<meta name="description" content="Meta description"></head></html>`;

const PLAIN_PAGE = `<html><head><title>
  Just a   title
</title><meta name="description" content="${"long ".repeat(400)}"></head><body></body></html>`;

const VIDEO_PAGE = `<html><head><base href="https://media.example/assets/">
<meta property="og:title" content="A clip"><meta property="og:video" content="clip.mp4">
<meta property="og:video:width" content="640"><meta property="og:video:height" content="100%">
<meta property="og:image" content="poster.jpg"></head></html>`;

/** The fake provider: answers like the real endpoints do, by provider path (`/youtube`, `/twitter`, `/spotify`). */
function oembedAnswer(url: URL): unknown {
  oembedRequests.push(url);
  const target = url.searchParams.get("url") ?? "";
  if (url.pathname === "/youtube") {
    return {
      type: "video",
      version: "1.0",
      title: "Never Gonna Give You Up",
      author_name: "Rick Astley",
      provider_name: "YouTube",
      thumbnail_url: "https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg",
      thumbnail_width: 480,
      thumbnail_height: 360,
      width: 200,
      height: 113,
      html: `<iframe width="200" height="113" src="https://www.youtube.com/embed/dQw4w9WgXcQ?feature=oembed" onload="alert(1)"></iframe>`,
    };
  }
  if (url.pathname === "/twitter") {
    return {
      type: "rich",
      version: "1.0",
      url: target,
      author_name: "Jack",
      provider_name: "Twitter",
      html: `<blockquote class="twitter-tweet"><p lang="en" dir="ltr">just setting up my <b>twttr</b></p>&mdash; jack (@jack) <a href="${target}">March 21, 2006</a></blockquote>\n<script async src="https://platform.twitter.com/widgets.js"></script>`,
    };
  }
  if (url.pathname === "/spotify") {
    return {
      type: "rich",
      version: "1.0",
      title: "Bohemian Rhapsody",
      provider_name: "Spotify",
      thumbnail_url: "https://i.scdn.co/image/abc",
      thumbnail_width: 300,
      thumbnail_height: 300,
      width: 456,
      height: 152,
      html: `<iframe src="https://open.spotify.com/embed/track/4u7EnebtmKWzUH433cf5Qv?utm_source=oembed"></iframe>`,
    };
  }
  return undefined;
}

beforeAll(async () => {
  server = await startLocalServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const html = (body: string | Buffer, type = "text/html; charset=utf-8") =>
      res.writeHead(200, { "content-type": type }).end(body);
    if (path.startsWith("/oembed/")) {
      const answer = oembedAnswer(new URL((req.url ?? "").slice("/oembed".length), "http://x"));
      if (answer === undefined) return void res.writeHead(404).end();
      return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
    }
    switch (path) {
      case "/article":
        return html(OPENGRAPH_PAGE);
      case "/moved":
        return void res.writeHead(301, { location: "/article" }).end();
      case "/card":
        return html(TWITTER_CARD_PAGE);
      case "/plain":
        return html(PLAIN_PAGE);
      case "/video":
        return html(VIDEO_PAGE);
      case "/latin1-header":
        return html(
          Buffer.from("<title>Caf\u00e9 cr\u00e8me</title>", "latin1"),
          "text/html; charset=windows-1252",
        );
      case "/latin1-meta":
        return html(
          Buffer.from('<meta charset="iso-8859-1"><title>Caf\u00e9 cr\u00e8me</title>', "latin1"),
          "text/html",
        );
      case "/late-tags":
        return html(`<html><head>${"<!-- padding -->".repeat(2000)}<title>Too far</title></head></html>`);
      case "/big-body":
        return html(`${OPENGRAPH_PAGE.replace("</body>", `${"<p>filler</p>".repeat(50_000)}</body>`)}`);
      case "/no-metadata":
        return html("<html><body><p>nothing</p></body></html>");
      case "/image.png":
        return void res.writeHead(200, { "content-type": "image/png" }).end(Buffer.alloc(64));
      case "/json":
        return void res.writeHead(200, { "content-type": "application/json" }).end('{"title":"x"}');
      case "/slow":
        res.writeHead(200, { "content-type": "text/html" }).write("<html><head>");
        return;
      case "/to-private":
        return void res.writeHead(302, { location: "http://10.1.2.3/" }).end();
      case "/to-metadata":
        return void res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end();
      case "/dQw4w9WgXcQ":
        return html('<meta property="og:title" content="From the page itself">');
      default:
        res.writeHead(404).end();
    }
  });
});

afterAll(async () => {
  await server?.close();
});

/** Resolves every name to the local server, allows exactly 127.0.0.1 and the server's port (test-only). */
function options(extra: Partial<LinkPreviewOptions> = {}): LinkPreviewOptions & { failures: unknown[] } {
  const failures: unknown[] = [];
  return {
    fetch: {
      allowedPorts: [server.port, 80, 443],
      allowPrivateAddressesForTests: ["127.0.0.1"],
      resolve: () => ["127.0.0.1"],
      timeoutMs: 1_000,
    },
    oembedEndpoints: {
      youtube: `${server.origin}/oembed/youtube`,
      spotify: `${server.origin}/oembed/spotify`,
      twitter: `${server.origin}/oembed/twitter`,
    },
    onFailure: (_url, error) => failures.push(error),
    ...extra,
    failures,
  };
}

function failureCode(failures: unknown[]): string | undefined {
  const last = failures.at(-1);
  return last instanceof SafeFetchError ? last.code : String(last);
}

describe("fetchLinkPreview: pages", () => {
  it("reads OpenGraph tags, resolving relative image URLs against the final URL", async () => {
    const url = `http://news.example:${server.port}/moved`;
    expect(await fetchLinkPreview(url, options())).toEqual({
      url,
      siteName: "Example News",
      title: "The & Article Title",
      description: "What it is about.",
      image: { url: `http://news.example:${server.port}/img/cover.png`, width: 1200, height: 630 },
      providerName: "news.example",
      type: "link",
      color: "#00aaff",
    });
  });

  it("falls back to Twitter card tags, then meta description", async () => {
    const preview = await fetchLinkPreview(`http://www.cards.example:${server.port}/card`, options());
    expect(preview).toMatchObject({
      title: "Card title",
      description: "Meta description",
      image: { url: "https://cdn.example/c.jpg" },
      siteName: "cards.example",
      providerName: "cards.example",
    });
  });

  it("falls back to <title>, collapsing whitespace and trimming long text", async () => {
    const preview = await fetchLinkPreview(`http://plain.example:${server.port}/plain`, options());
    expect(preview?.title).toBe("Just a title");
    expect(Array.from(preview?.description ?? "")).toHaveLength(1024);
    expect(preview?.description.endsWith("…")).toBe(true);
    expect(preview?.image).toBeUndefined();
  });

  it("reads og:video against <base href>, dropping a non-numeric dimension", async () => {
    const preview = await fetchLinkPreview(`http://clips.example:${server.port}/video`, options());
    expect(preview).toMatchObject({
      type: "video",
      video: { url: "https://media.example/assets/clip.mp4", width: 640 },
      image: { url: "https://media.example/assets/poster.jpg" },
    });
    expect(preview?.video?.height).toBeUndefined();
  });

  it("decodes the charset from the header or from <meta charset>", async () => {
    const fromHeader = await fetchLinkPreview(`http://fr.example:${server.port}/latin1-header`, options());
    expect(fromHeader?.title).toBe("Café crème");
    const fromMeta = await fetchLinkPreview(`http://fr.example:${server.port}/latin1-meta`, options());
    expect(fromMeta?.title).toBe("Café crème");
  });

  it("parses only the first maxHtmlBytes of a page", async () => {
    const url = `http://far.example:${server.port}/late-tags`;
    expect(await fetchLinkPreview(url, options({ maxHtmlBytes: 4096 }))).toBeNull();
    expect((await fetchLinkPreview(url, options()))?.title).toBe("Too far");
  });

  it("previews a page whose head fits in maxHtmlBytes though its body does not", async () => {
    const preview = await fetchLinkPreview(
      `http://big.example:${server.port}/big-body`,
      options({ maxHtmlBytes: 4096 }),
    );
    expect(preview?.title).toBe("The & Article Title");
  });

  it("returns null for a page without metadata", async () => {
    expect(await fetchLinkPreview(`http://empty.example:${server.port}/no-metadata`, options())).toBeNull();
  });

  it("ignores non-HTML answers", async () => {
    for (const path of ["/image.png", "/json"]) {
      const opts = options();
      expect(await fetchLinkPreview(`http://files.example:${server.port}${path}`, opts)).toBeNull();
      expect(failureCode(opts.failures)).toBe("UNSUPPORTED_CONTENT_TYPE");
    }
  });

  it("gives up on a slow server", async () => {
    const opts = options();
    opts.fetch = { ...opts.fetch, timeoutMs: 300 };
    expect(await fetchLinkPreview(`http://slow.example:${server.port}/slow`, opts)).toBeNull();
    expect(failureCode(opts.failures)).toBe("TIMEOUT");
  });
});

describe("fetchLinkPreview: SSRF", () => {
  it("refuses a name resolving to a private address", async () => {
    const opts = options();
    opts.fetch = { ...opts.fetch, resolve: () => ["10.0.0.1"] };
    expect(await fetchLinkPreview(`http://intranet.example:${server.port}/article`, opts)).toBeNull();
    expect(failureCode(opts.failures)).toBe("BLOCKED_ADDRESS");
  });

  it.each([["/to-private"], ["/to-metadata"]])("refuses a redirect %s", async (path) => {
    const opts = options();
    expect(await fetchLinkPreview(`http://redirect.example:${server.port}${path}`, opts)).toBeNull();
    expect(failureCode(opts.failures)).toBe("BLOCKED_ADDRESS");
  });

  it("refuses loopback without the test-only allowance", async () => {
    const opts = options();
    opts.fetch = { allowedPorts: [server.port] };
    expect(await fetchLinkPreview(`${server.origin}/article`, opts)).toBeNull();
    expect(failureCode(opts.failures)).toBe("BLOCKED_ADDRESS");
  });

  it("checks oEmbed endpoints like any other URL", async () => {
    const opts = options();
    opts.fetch = { allowedPorts: [server.port] };
    expect(await fetchLinkPreview("https://youtu.be/dQw4w9WgXcQ", opts)).toBeNull();
    // The endpoint (on loopback) was refused first, then the page fallback (real youtu.be on :443, a blocked port).
    expect(opts.failures.map((e) => (e instanceof SafeFetchError ? e.code : e))).toEqual([
      "BLOCKED_ADDRESS",
      "BLOCKED_PORT",
    ]);
  });
});

describe("fetchLinkPreview: oEmbed", () => {
  it("asks the YouTube endpoint with the canonical watch URL and keeps only the player URL of its HTML", async () => {
    oembedRequests.length = 0;
    const url = "https://youtube.com/shorts/dQw4w9WgXcQ";
    expect(await fetchLinkPreview(url, options())).toEqual({
      url,
      siteName: "YouTube",
      title: "Never Gonna Give You Up",
      description: "",
      providerName: "YouTube",
      authorName: "Rick Astley",
      image: { url: "https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg", width: 480, height: 360 },
      video: { url: "https://www.youtube.com/embed/dQw4w9WgXcQ?feature=oembed", width: 200, height: 113 },
      type: "video",
      color: "#ff0000",
    });
    expect(oembedRequests).toHaveLength(1);
    expect(oembedRequests[0]?.searchParams.get("url")).toBe("https://www.youtube.com/watch?v=dQw4w9WgXcQ");
    expect(oembedRequests[0]?.searchParams.get("format")).toBe("json");
  });

  it("reads a tweet's text from the Twitter/X endpoint", async () => {
    oembedRequests.length = 0;
    const preview = await fetchLinkPreview("https://x.com/jack/status/20?s=20", options());
    expect(preview).toMatchObject({
      type: "rich",
      providerName: "Twitter",
      authorName: "Jack",
      description: "just setting up my twttr",
      color: "#1d9bf0",
    });
    expect(preview?.video).toBeUndefined();
    expect(oembedRequests[0]?.searchParams.get("url")).toBe("https://twitter.com/jack/status/20");
  });

  it("reads a Spotify track", async () => {
    const preview = await fetchLinkPreview(
      "https://open.spotify.com/intl-fr/track/4u7EnebtmKWzUH433cf5Qv?si=abc",
      options(),
    );
    expect(preview).toMatchObject({
      type: "rich",
      title: "Bohemian Rhapsody",
      providerName: "Spotify",
      image: { url: "https://i.scdn.co/image/abc", width: 300, height: 300 },
      video: { url: "https://open.spotify.com/embed/track/4u7EnebtmKWzUH433cf5Qv?utm_source=oembed" },
    });
    expect(oembedRequests.at(-1)?.searchParams.get("url")).toBe(
      "https://open.spotify.com/track/4u7EnebtmKWzUH433cf5Qv",
    );
  });

  it("falls back to the page when the provider endpoint fails", async () => {
    const opts = options({ oembedEndpoints: { youtube: `${server.origin}/oembed/broken` } });
    const url = `http://youtu.be:${server.port}/dQw4w9WgXcQ`;
    const preview = await fetchLinkPreview(url, opts);
    expect(preview).toMatchObject({
      url,
      title: "From the page itself",
      type: "link",
      providerName: "youtu.be",
    });
    expect(failureCode(opts.failures)).toBe("HTTP_STATUS");
  });
});
