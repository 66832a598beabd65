import { describe, expect, it } from "vitest";
import { clientIpResolver, parseTrustedProxies, resolveClientIp } from "./client-ip.ts";

const request = (peer: string, forwardedFor?: string) => ({
  socket: { remoteAddress: peer } as never,
  headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor },
});

describe("client IP behind trusted proxies", () => {
  it("ignores X-Forwarded-For from an untrusted peer (spoofing)", () => {
    const resolve = clientIpResolver("10.0.0.0/8");
    expect(resolve(request("203.0.113.7", "198.51.100.1"))).toBe("203.0.113.7");
    expect(clientIpResolver("")(request("127.0.0.1", "198.51.100.1"))).toBe("127.0.0.1");
  });

  it("takes the right-most untrusted hop when the peer is a trusted proxy", () => {
    const resolve = clientIpResolver("10.0.0.0/8, 192.168.1.5");
    // The client wrote "1.2.3.4" itself; the proxies appended the real address and their own.
    expect(resolve(request("10.1.2.3", "1.2.3.4, 198.51.100.9, 192.168.1.5"))).toBe("198.51.100.9");
    expect(resolve(request("10.1.2.3", "198.51.100.9"))).toBe("198.51.100.9");
  });

  it("joins repeated headers and handles IPv4-mapped and IPv6 peers", () => {
    const blocks = parseTrustedProxies("127.0.0.1/32,::1");
    expect(resolveClientIp("::ffff:127.0.0.1", ["1.1.1.1", "203.0.113.50"], blocks)).toBe("203.0.113.50");
    expect(resolveClientIp("::1", "2001:db8::7", blocks)).toBe("2001:db8::7");
    expect(resolveClientIp("::ffff:203.0.113.1", "1.1.1.1", blocks)).toBe("203.0.113.1");
  });

  it("falls back to the last proxy when a hop is garbage, or when every hop is trusted", () => {
    const blocks = parseTrustedProxies("10.0.0.0/8");
    expect(resolveClientIp("10.0.0.1", "not-an-ip", blocks)).toBe("10.0.0.1");
    expect(resolveClientIp("10.0.0.1", "evil, 10.0.0.2", blocks)).toBe("10.0.0.2");
    expect(resolveClientIp("10.0.0.1", "10.0.0.3, 10.0.0.2", blocks)).toBe("10.0.0.3");
    expect(resolveClientIp("10.0.0.1", undefined, blocks)).toBe("10.0.0.1");
  });

  it("answers each request of a keep-alive connection alike, reading a trusted proxy's header every time", () => {
    const resolve = clientIpResolver("10.0.0.0/8");
    const direct = { remoteAddress: "::ffff:203.0.113.7" } as never;
    expect(resolve({ socket: direct, headers: {} })).toBe("203.0.113.7");
    expect(resolve({ socket: direct, headers: { "x-forwarded-for": "198.51.100.1" } })).toBe("203.0.113.7");
    const proxy = { remoteAddress: "10.0.0.1" } as never;
    expect(resolve({ socket: proxy, headers: { "x-forwarded-for": "198.51.100.1" } })).toBe("198.51.100.1");
    expect(resolve({ socket: proxy, headers: { "x-forwarded-for": "198.51.100.2" } })).toBe("198.51.100.2");
    expect(resolve({ socket: proxy, headers: {} })).toBe("10.0.0.1");
  });

  it("refuses a malformed trusted proxy list", () => {
    expect(() => parseTrustedProxies("10.0.0.0/8,example.org")).toThrow(/example\.org/);
  });
});
