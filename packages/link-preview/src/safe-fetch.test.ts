import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalServer, startLocalServer } from "./local-server.fixture.ts";
import { startLocalTlsServer } from "./local-tls-server.fixture.ts";
import { SafeFetchError, type SafeFetchOptions, safeFetch } from "./safe-fetch.ts";

let server: LocalServer;
// A second server on another loopback address: redirects to it must be refused, so it must never be hit.
let internal: LocalServer;
let bytesStreamed = 0;

beforeAll(async () => {
  internal = await startLocalServer((_req, res) => res.end("internal secret"), "127.0.0.2");
  server = await startLocalServer((req, res) => {
    const path = req.url ?? "/";
    if (path === "/page") {
      res.setHeader("content-type", "text/html; charset=utf-8");
      res.setHeader("set-cookie", "session=abc");
      res.end(`<title>hello</title> host=${req.headers.host} cookie=${req.headers.cookie ?? "none"}`);
    } else if (path === "/redirect-to-page") {
      res.setHeader("set-cookie", "session=abc");
      res.writeHead(302, { location: "/page" }).end();
    } else if (path.startsWith("/redirect-to?")) {
      const target = new URLSearchParams(path.slice("/redirect-to?".length)).get("url") ?? "/";
      res.writeHead(301, { location: target }).end();
    } else if (path.startsWith("/loop/")) {
      const n = Number(path.slice("/loop/".length));
      res.writeHead(302, { location: `/loop/${n + 1}` }).end();
    } else if (path === "/huge") {
      // Streams up to 4 MiB, 16 KiB per millisecond, stopping as soon as the client goes away. Paced, because
      // loopback socket buffers would otherwise swallow megabytes before the client could say stop.
      res.setHeader("content-type", "text/html");
      const chunk = Buffer.alloc(16 * 1024, "a");
      let left = 256;
      const timer = setInterval(() => {
        if (res.destroyed || left === 0) {
          clearInterval(timer);
          if (left === 0) res.end();
          return;
        }
        left--;
        bytesStreamed += chunk.length;
        res.write(chunk);
      }, 1);
    } else if (path === "/declared-huge") {
      res.writeHead(200, { "content-type": "text/html", "content-length": String(50 * 1024 * 1024) });
      res.write("<html>");
    } else if (path === "/slow") {
      res.setHeader("content-type", "text/html");
      res.write("<html>");
      // Never ends: only the client's time limit stops this.
    } else if (path === "/slow-headers") {
      setTimeout(() => res.end("late"), 10_000).unref();
    } else if (path === "/image") {
      res.writeHead(200, { "content-type": "image/png" }).end(Buffer.alloc(100));
    } else if (path === "/gzip") {
      res.writeHead(200, { "content-type": "text/html", "content-encoding": "gzip" });
      res.end(gzipSync("<p>compressed</p>"));
    } else if (path === "/missing") {
      res.writeHead(404).end("nope");
    } else {
      res.writeHead(500).end();
    }
  });
});

afterAll(async () => {
  await server?.close();
  await internal?.close();
});

/** The production options plus what a loopback test server needs: its port and its one address. */
function testOptions(extra: SafeFetchOptions = {}): SafeFetchOptions {
  return {
    allowedPorts: [server.port, internal.port, 80, 443],
    allowPrivateAddressesForTests: ["127.0.0.1"],
    ...extra,
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SafeFetchError) return error.code;
    throw error;
  }
  return "no error";
}

describe("safeFetch", () => {
  it("fetches from an allowed address, sending the original host name and no cookies", async () => {
    let lookups = 0;
    const response = await safeFetch(`http://pages.example:${server.port}/redirect-to-page`, {
      ...testOptions(),
      resolve: (host) => {
        lookups++;
        expect(host).toBe("pages.example");
        return ["127.0.0.1"];
      },
    });
    expect(response.status).toBe(200);
    expect(response.url).toBe(`http://pages.example:${server.port}/page`);
    expect(response.contentType).toBe("text/html");
    expect(response.charset).toBe("utf-8");
    expect(response.body.toString()).toBe(
      `<title>hello</title> host=pages.example:${server.port} cookie=none`,
    );
    // One lookup per hop, none by the socket itself: the checked address is the one connected to.
    expect(lookups).toBe(2);
  });

  it("refuses loopback without the test-only allowance, before connecting", async () => {
    const before = server.requests.length;
    expect(await codeOf(safeFetch(`${server.origin}/page`, { allowedPorts: [server.port] }))).toBe(
      "BLOCKED_ADDRESS",
    );
    expect(server.requests.length).toBe(before);
  });

  it.each([
    ["::ffff:127.0.0.1", (port: number) => `http://[::ffff:127.0.0.1]:${port}/page`],
    ["::ffff:7f00:1", (port: number) => `http://[::ffff:7f00:1]:${port}/page`],
    ["::127.0.0.1", (port: number) => `http://[::127.0.0.1]:${port}/page`],
    ["[::1]", (port: number) => `http://[::1]:${port}/page`],
    ["[::]", (port: number) => `http://[::]:${port}/page`],
    ["0x7f.1", (port: number) => `http://0x7f.1:${port}/page`],
    ["0177.0.0.1", (port: number) => `http://0177.0.0.1:${port}/page`],
    ["decimal 2130706433", (port: number) => `http://2130706433:${port}/page`],
    ["0.0.0.0", (port: number) => `http://0.0.0.0:${port}/page`],
    ["127.1", (port: number) => `http://127.1:${port}/page`],
  ])("refuses the loopback form %s", async (_name, urlFor) => {
    // The loopback allowance is for the exact address 127.0.0.1, so the IPv6 forms stay refused even with it.
    expect(await codeOf(safeFetch(urlFor(server.port), { allowedPorts: [server.port] }))).toBe(
      "BLOCKED_ADDRESS",
    );
  });

  it.each([["::ffff:127.0.0.1"], ["[::1]"], ["[::]"]])(
    "refuses %s even with 127.0.0.1 allowed for tests",
    async (host) => {
      const url = `http://${host.startsWith("[") ? host : `[${host}]`}:${server.port}/page`;
      expect(await codeOf(safeFetch(url, testOptions()))).toBe("BLOCKED_ADDRESS");
    },
  );

  it.each([
    ["another loopback address", () => `${internal.origin}/`],
    ["[::1]", () => `http://[::1]:${internal.port}/`],
    ["::ffff:127.0.0.2", () => `http://[::ffff:127.0.0.2]:${internal.port}/`],
    ["the cloud metadata address", () => "http://169.254.169.254/latest/meta-data/"],
    ["a private address", () => "http://10.0.0.1/"],
  ])("refuses a redirect to %s (127.0.0.1 allowed for the first hop only)", async (_name, target) => {
    const before = internal.requests.length;
    const url = `${server.origin}/redirect-to?url=${encodeURIComponent(target())}`;
    expect(await codeOf(safeFetch(url, testOptions()))).toBe("BLOCKED_ADDRESS");
    expect(internal.requests.length).toBe(before);
  });

  it("refuses localhost by name", async () => {
    expect(
      await codeOf(safeFetch(`http://localhost:${server.port}/page`, { allowedPorts: [server.port] })),
    ).toBe("BLOCKED_ADDRESS");
  });

  it("follows a redirect to an allowed address (the redirect check does not refuse everything)", async () => {
    const url = `${server.origin}/redirect-to?url=${encodeURIComponent(`${server.origin}/page`)}`;
    const response = await safeFetch(url, testOptions());
    expect(response.url).toBe(`${server.origin}/page`);
  });

  it("refuses a name that resolves to a private address", async () => {
    const options = testOptions({ resolve: () => ["10.0.0.1"] });
    expect(await codeOf(safeFetch(`http://intranet.example:${server.port}/`, options))).toBe(
      "BLOCKED_ADDRESS",
    );
  });

  it("refuses a name when any one of its addresses is private", async () => {
    const options = testOptions({ resolve: () => ["127.0.0.1", "192.168.0.10"] });
    expect(await codeOf(safeFetch(`http://mixed.example:${server.port}/page`, options))).toBe(
      "BLOCKED_ADDRESS",
    );
    const v6 = testOptions({ resolve: () => ["127.0.0.1", "fd00::1"] });
    expect(await codeOf(safeFetch(`http://mixed6.example:${server.port}/page`, v6))).toBe("BLOCKED_ADDRESS");
  });

  it("reports a resolver failure and an empty answer as DNS_FAILED", async () => {
    const failing = testOptions({
      resolve: () => {
        throw new Error("NXDOMAIN");
      },
    });
    expect(await codeOf(safeFetch(`http://nowhere.example:${server.port}/`, failing))).toBe("DNS_FAILED");
    const empty = testOptions({ resolve: () => [] });
    expect(await codeOf(safeFetch(`http://nowhere.example:${server.port}/`, empty))).toBe("DNS_FAILED");
  });

  it("refuses other protocols, credentials, ports and non-URLs", async () => {
    expect(await codeOf(safeFetch("ftp://example.com/file"))).toBe("BLOCKED_PROTOCOL");
    expect(await codeOf(safeFetch("file:///etc/passwd"))).toBe("BLOCKED_PROTOCOL");
    expect(await codeOf(safeFetch(`http://user:pw@127.0.0.1:${server.port}/page`, testOptions()))).toBe(
      "CREDENTIALS_IN_URL",
    );
    expect(
      await codeOf(safeFetch(`${server.origin}/page`, { allowPrivateAddressesForTests: ["127.0.0.1"] })),
    ).toBe("BLOCKED_PORT");
    expect(await codeOf(safeFetch("not a url"))).toBe("INVALID_URL");
  });

  it("stops after the redirect limit", async () => {
    expect(await codeOf(safeFetch(`${server.origin}/loop/0`, testOptions()))).toBe("TOO_MANY_REDIRECTS");
    expect(await codeOf(safeFetch(`${server.origin}/loop/0`, testOptions({ maxRedirects: 2 })))).toBe(
      "TOO_MANY_REDIRECTS",
    );
  });

  it("cuts an oversize body off, stopping the download", async () => {
    bytesStreamed = 0;
    expect(await codeOf(safeFetch(`${server.origin}/huge`, testOptions({ maxBytes: 64 * 1024 })))).toBe(
      "BODY_TOO_LARGE",
    );
    const truncated = await safeFetch(
      `${server.origin}/huge`,
      testOptions({ maxBytes: 64 * 1024, truncate: true }),
    );
    expect(truncated.truncated).toBe(true);
    expect(truncated.body.length).toBe(64 * 1024);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Two fetches of a 4 MiB body, each abandoned after 64 KiB: the server saw both clients leave early.
    expect(bytesStreamed).toBeLessThan(1024 * 1024);
  });

  it("refuses a declared Content-Length over the limit without reading it", async () => {
    expect(await codeOf(safeFetch(`${server.origin}/declared-huge`, testOptions()))).toBe("BODY_TOO_LARGE");
  });

  it("times out a slow server (body or headers)", async () => {
    const started = Date.now();
    expect(await codeOf(safeFetch(`${server.origin}/slow`, testOptions({ timeoutMs: 300 })))).toBe("TIMEOUT");
    expect(await codeOf(safeFetch(`${server.origin}/slow-headers`, testOptions({ timeoutMs: 300 })))).toBe(
      "TIMEOUT",
    );
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("times out a slow resolver", async () => {
    const options = testOptions({ timeoutMs: 200, resolve: () => new Promise<string[]>(() => {}) });
    expect(await codeOf(safeFetch(`http://slow-dns.example:${server.port}/`, options))).toBe("TIMEOUT");
  });

  it("refuses unaccepted content types and non-2xx answers", async () => {
    const htmlOnly = testOptions({ acceptContentTypes: ["text/html"] });
    expect(await codeOf(safeFetch(`${server.origin}/image`, htmlOnly))).toBe("UNSUPPORTED_CONTENT_TYPE");
    expect(await codeOf(safeFetch(`${server.origin}/missing`, htmlOnly))).toBe("HTTP_STATUS");
  });

  it("decodes a gzip body", async () => {
    const response = await safeFetch(`${server.origin}/gzip`, testOptions());
    expect(response.body.toString()).toBe("<p>compressed</p>");
  });
});

describe("safeFetch over https", () => {
  it("connects to the pinned address with the original name as SNI, and verifies the certificate", async () => {
    const tls = await startLocalTlsServer();
    try {
      const error: unknown = await safeFetch(`https://secure.example:${tls.port}/`, {
        allowedPorts: [tls.port],
        allowPrivateAddressesForTests: ["127.0.0.1"],
        resolve: () => ["127.0.0.1"],
      }).catch((e: unknown) => e);
      // "secure.example" exists in no DNS: reaching the server at all proves the socket used the pinned address.
      expect(tls.serverNames).toEqual(["secure.example"]);
      expect(error).toBeInstanceOf(SafeFetchError);
      expect((error as SafeFetchError).code).toBe("NETWORK");
      // The self-signed certificate is refused: verification stays on although we chose the address.
      expect(((error as SafeFetchError).cause as { code?: string }).code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
    } finally {
      await tls.close();
    }
  });
});
