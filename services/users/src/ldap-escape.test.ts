import { describe, expect, it } from "vitest";
import { escapeDnValue, escapeFilterValue } from "./ldap-escape.ts";

describe("escapeFilterValue (RFC 4515)", () => {
  it("hex-escapes the filter metacharacters and NUL", () => {
    expect(escapeFilterValue("*")).toBe("\\2a");
    expect(escapeFilterValue("(")).toBe("\\28");
    expect(escapeFilterValue(")")).toBe("\\29");
    expect(escapeFilterValue("\\")).toBe("\\5c");
    expect(escapeFilterValue("a\0b")).toBe("a\\00b");
  });

  it("turns injection attempts into plain values", () => {
    expect(escapeFilterValue("*)(uid=*")).toBe("\\2a\\29\\28uid=\\2a");
    expect(escapeFilterValue("admin)(|(uid=*")).toBe("admin\\29\\28|\\28uid=\\2a");
    expect(`(uid=${escapeFilterValue("x)(objectClass=*")})`).not.toMatch(/\)\(/);
  });

  it("leaves ordinary and non-ASCII characters, and DN specials, alone", () => {
    expect(escapeFilterValue("zoë.o'brien, jr+x #<>;\"")).toBe("zoë.o'brien, jr+x #<>;\"");
  });
});

describe("escapeDnValue (RFC 4514)", () => {
  it("backslash-escapes the DN specials", () => {
    expect(escapeDnValue(",")).toBe("\\,");
    expect(escapeDnValue("+")).toBe("\\+");
    expect(escapeDnValue('"')).toBe('\\"');
    expect(escapeDnValue("<")).toBe("\\<");
    expect(escapeDnValue(">")).toBe("\\>");
    expect(escapeDnValue(";")).toBe("\\;");
    expect(escapeDnValue("\\")).toBe("\\\\");
    expect(escapeDnValue("=")).toBe("\\=");
  });

  it("escapes NUL, a leading # or space and a trailing space", () => {
    expect(escapeDnValue("a\0b")).toBe("a\\00b");
    expect(escapeDnValue("#admin")).toBe("\\#admin");
    expect(escapeDnValue(" admin")).toBe("\\ admin");
    expect(escapeDnValue("admin ")).toBe("admin\\ ");
    expect(escapeDnValue(" ")).toBe("\\ ");
    expect(escapeDnValue("a#b c")).toBe("a#b c");
    expect(escapeDnValue("a\\ ")).toBe("a\\\\\\ ");
  });

  it("keeps an injected RDN inside one value", () => {
    expect(`uid=${escapeDnValue("bob,ou=admins")},ou=people`).toBe("uid=bob\\,ou\\=admins,ou=people");
    expect(escapeDnValue('#o\'brien, jr+x "q" <a>;b\\c')).toBe(
      '\\#o\'brien\\, jr\\+x \\"q\\" \\<a\\>\\;b\\\\c',
    );
  });

  it("leaves filter metacharacters alone", () => {
    expect(escapeDnValue("*()")).toBe("*()");
  });
});
