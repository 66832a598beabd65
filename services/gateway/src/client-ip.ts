import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";

/** Turns a request into the client IP that limits, sessions and audit use. */
export type ClientIpResolver = (req: Pick<IncomingMessage, "headers" | "socket">) => string;

function normalize(address: string): string {
  const trimmed = address.trim();
  // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed)?.[1];
  return mapped ?? trimmed;
}

/** Parses `http.trustedProxies` (comma list of IPs or CIDRs); throws on a malformed entry. */
export function parseTrustedProxies(list: string): BlockList {
  const blocks = new BlockList();
  for (const entry of list
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [address = "", bits] = entry.split("/");
    const family = isIP(address);
    if (family === 0) throw new Error(`trusted proxy ${JSON.stringify(entry)} is not an IP or CIDR`);
    const type = family === 6 ? "ipv6" : "ipv4";
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    blocks.addSubnet(normalize(address), prefix, type);
  }
  return blocks;
}

function trusted(blocks: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && blocks.check(address, family === 6 ? "ipv6" : "ipv4");
}

/**
 * The client IP (ASVS V9/V7 attribution): the socket peer, unless the peer is a trusted proxy; then
 * the right-most `X-Forwarded-For` hop that is not itself a trusted proxy. Hops left of it were
 * written by the client and are ignored, so an untrusted peer cannot spoof its address.
 */
export function resolveClientIp(
  peer: string,
  forwardedFor: string | string[] | undefined,
  blocks: BlockList,
) {
  let client = normalize(peer);
  if (!trusted(blocks, client) || forwardedFor === undefined) return client;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor)
    .split(",")
    .map(normalize)
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] ?? "";
    // A malformed hop cannot be attributed: keep the last proxy that vouched for something.
    if (isIP(hop) === 0) return client;
    client = hop;
    if (!trusted(blocks, hop)) return hop;
  }
  return client;
}

/** A resolver over the configured trusted proxies. */
export function clientIpResolver(trustedProxies: string): ClientIpResolver {
  const blocks = parseTrustedProxies(trustedProxies);
  // Why per socket: a keep-alive connection's peer never changes, and each BlockList check allocates;
  // an untrusted peer (the usual case without a proxy) is the answer whatever the headers say.
  const untrustedPeers = new WeakMap<object, string>();
  return (req) => {
    const socket = req.socket;
    const known = socket ? untrustedPeers.get(socket) : undefined;
    if (known !== undefined) return known;
    const peer = socket?.remoteAddress ?? "";
    const address = normalize(peer);
    if (socket && peer !== "" && !trusted(blocks, address)) {
      untrustedPeers.set(socket, address);
      return address;
    }
    return resolveClientIp(peer, req.headers["x-forwarded-for"], blocks);
  };
}
