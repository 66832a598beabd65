import { describe, expect, it } from "vitest";
import { classifyAddress } from "./ip-policy.ts";

describe("classifyAddress", () => {
  it.each([
    ["8.8.8.8"],
    ["93.184.215.14"],
    ["2606:4700:4700::1111"],
    ["[2a00:1450:4007:80e::200e]"],
    // NAT64 and 6to4 of a public IPv4 address reach that public address.
    ["64:ff9b::808:808"],
    ["2002:808:808::1"],
  ])("accepts the public address %s", (address) => {
    expect(classifyAddress(address)).toBe("public");
  });

  it.each([
    ["10.0.0.1", "private"],
    ["172.16.5.4", "private"],
    ["192.168.1.1", "private"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["169.254.169.254", "link-local"],
    ["100.64.0.1", "carrier-grade-nat"],
    ["224.0.0.1", "multicast"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["192.0.2.1", "reserved"],
    ["198.18.0.1", "reserved"],
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["::ffff:127.0.0.1", "ipv4-mapped"],
    ["::ffff:7f00:1", "ipv4-mapped"],
    ["::ffff:8.8.8.8", "ipv4-mapped"],
    ["::127.0.0.1", "ipv4-compatible"],
    ["::7f00:1", "ipv4-compatible"],
    ["::ffff:0:7f00:1", "translated"],
    ["64:ff9b::a00:1", "private"],
    ["64:ff9b::7f00:1", "loopback"],
    ["64:ff9b:1::1", "not-global-unicast"],
    ["2002:7f00:1::1", "loopback"],
    ["2002:a9fe:a9fe::1", "link-local"],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "tunnel"],
    ["fc00::1", "unique-local"],
    ["fd12:3456::1", "unique-local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["fec0::1", "not-global-unicast"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "reserved"],
    ["100::1", "not-global-unicast"],
  ])("refuses %s (%s)", (address, verdict) => {
    expect(classifyAddress(address)).toBe(verdict);
  });

  it.each([["0x7f.1"], ["2130706433"], ["017700000001"], ["localhost"], [""]])(
    "refuses the non-canonical literal %s (URL parsing canonicalises hosts before this check)",
    (literal) => {
      expect(classifyAddress(literal)).toBe("invalid");
    },
  );
});
