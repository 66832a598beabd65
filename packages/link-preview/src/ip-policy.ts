import ipaddr from "ipaddr.js";

/** Why an address was refused, or "public" when an outbound fetch may connect to it. */
export type AddressVerdict =
  | "public"
  | "invalid"
  | "private"
  | "loopback"
  | "link-local"
  | "carrier-grade-nat"
  | "multicast"
  | "unspecified"
  | "broadcast"
  | "reserved"
  | "unique-local"
  | "ipv4-mapped"
  | "ipv4-compatible"
  | "translated"
  | "tunnel"
  | "not-global-unicast";

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;

// ipaddr.js range names that are never reachable from the public internet (or that we refuse anyway:
// anycast relay ranges like as112/amt are public but never serve web pages).
const IPV4_VERDICTS: Readonly<Record<string, AddressVerdict>> = {
  unicast: "public",
  unspecified: "unspecified",
  broadcast: "broadcast",
  multicast: "multicast",
  linkLocal: "link-local",
  loopback: "loopback",
  carrierGradeNat: "carrier-grade-nat",
  private: "private",
  reserved: "reserved",
  benchmarking: "reserved",
  as112: "reserved",
  amt: "reserved",
};

// The global unicast block: every IPv6 address a public web server can have lives in 2000::/3. Anything
// outside it (site-local, discard, documentation-adjacent leftovers, future allocations) is refused.
const GLOBAL_UNICAST: [IPv6, number] = ipaddr.IPv6.parseCIDR("2000::/3");
// NAT64 well-known prefix (RFC 6052): the last 32 bits are an IPv4 address the gateway will reach for us.
const NAT64_WELL_KNOWN: [IPv6, number] = ipaddr.IPv6.parseCIDR("64:ff9b::/96");
// 6to4 (RFC 3056): bits 16..48 are an IPv4 address.
const SIX_TO_FOUR: [IPv6, number] = ipaddr.IPv6.parseCIDR("2002::/16");
// Teredo (RFC 4380) hides its IPv4 server/client obfuscated; refuse the whole block.
const TEREDO: [IPv6, number] = ipaddr.IPv6.parseCIDR("2001::/32");
// Documentation (RFC 3849) and ORCHID (RFC 7343) live inside 2000::/3 but are not routed.
const IPV6_NOT_ROUTED: readonly [IPv6, number][] = [
  ipaddr.IPv6.parseCIDR("2001:db8::/32"),
  ipaddr.IPv6.parseCIDR("3fff::/20"),
  ipaddr.IPv6.parseCIDR("2001:10::/28"),
  ipaddr.IPv6.parseCIDR("2001:20::/28"),
  ipaddr.IPv6.parseCIDR("2001:2::/48"),
];

function classifyIPv4(address: IPv4): AddressVerdict {
  return IPV4_VERDICTS[address.range()] ?? "reserved";
}

function embeddedIPv4(parts: readonly number[], firstPart: number): IPv4 {
  const high = parts[firstPart] ?? 0;
  const low = parts[firstPart + 1] ?? 0;
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

function classifyIPv6(address: IPv6): AddressVerdict {
  const parts = address.parts;
  // ::/96 holds the unspecified address, ::1 and the deprecated IPv4-compatible form (::127.0.0.1).
  if (parts.slice(0, 6).every((part) => part === 0)) {
    if (parts[6] === 0 && parts[7] === 0) return "unspecified";
    if (parts[6] === 0 && parts[7] === 1) return "loopback";
    return "ipv4-compatible";
  }
  const range = address.range();
  // A DNS answer has no business handing us ::ffff:a.b.c.d; refusing every mapped form (public or not)
  // closes the "the kernel connects to the IPv4 behind it" door without reasoning about it.
  if (range === "ipv4Mapped") return "ipv4-mapped";
  if (range === "rfc6145") return "translated";
  if (range === "loopback") return "loopback";
  if (range === "unspecified") return "unspecified";
  if (range === "linkLocal") return "link-local";
  if (range === "uniqueLocal") return "unique-local";
  if (range === "multicast") return "multicast";
  if (address.match(NAT64_WELL_KNOWN)) {
    const inner = classifyIPv4(embeddedIPv4(parts, 6));
    return inner === "public" ? "public" : inner;
  }
  if (address.match(SIX_TO_FOUR)) {
    const inner = classifyIPv4(embeddedIPv4(parts, 1));
    return inner === "public" ? "public" : inner;
  }
  if (address.match(TEREDO)) return "tunnel";
  if (!address.match(GLOBAL_UNICAST)) return "not-global-unicast";
  if (IPV6_NOT_ROUTED.some((cidr) => address.match(cidr))) return "reserved";
  return "public";
}

// ipaddr.js reads the dotted tail of "::127.0.0.1" as if it were "::ffff:127.0.0.1"; the WHATWG URL
// parser gets embedded-IPv4 forms right ("::7f00:1"), so IPv6 literals go through it first.
function canonicalIPv6(literal: string): string {
  try {
    return new URL(`http://[${literal}]/`).hostname.slice(1, -1);
  } catch {
    return literal;
  }
}

/**
 * Classifies one IP literal (IPv4 dotted quad or IPv6, optionally in brackets). Only "public" may be
 * connected to by an outbound fetch. Strict by design: the WHATWG URL parser has already turned
 * `0x7f.1` and `2130706433` into `127.0.0.1`, so only canonical forms are accepted here.
 */
export function classifyAddress(literal: string): AddressVerdict {
  const bare = literal.startsWith("[") && literal.endsWith("]") ? literal.slice(1, -1) : literal;
  // A zone id (fe80::1%eth0) only exists for link-local addresses; never a public one.
  if (bare.includes("%")) return "link-local";
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return classifyIPv4(ipaddr.IPv4.parse(bare));
  if (ipaddr.IPv6.isValid(bare)) return classifyIPv6(ipaddr.IPv6.parse(canonicalIPv6(bare)));
  return "invalid";
}

/** True when `literal` is an IP address (either family) in canonical form. */
export function isIpLiteral(literal: string): boolean {
  const bare = literal.startsWith("[") && literal.endsWith("]") ? literal.slice(1, -1) : literal;
  return ipaddr.IPv4.isValidFourPartDecimal(bare) || ipaddr.IPv6.isValid(bare);
}

/** 4 or 6 for an IP literal accepted by {@link isIpLiteral}. */
export function addressFamily(literal: string): 4 | 6 {
  const bare = literal.startsWith("[") && literal.endsWith("]") ? literal.slice(1, -1) : literal;
  return ipaddr.IPv4.isValidFourPartDecimal(bare) ? 4 : 6;
}
