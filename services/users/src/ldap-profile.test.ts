import { describe, expect, it } from "vitest";
import { baseUsername, cleanEmail, cleanName, usernameCandidates } from "./ldap-profile.ts";
import { requireUsername } from "./user-input.ts";

describe("LDAP profile mapping", () => {
  it("derives valid usernames from any directory value", () => {
    expect(baseUsername("alice")).toBe("alice");
    expect(baseUsername("Zoë.Müller")).toBe("Zoe.Muller");
    expect(baseUsername('#o\'brien, jr+x "q" <a>;b\\c*(d)')).toBe("o_brien_jr_x_q_a_b_c_d");
    expect(baseUsername("..a..b..")).toBe("a.b");
    expect(baseUsername("张")).toBe("user");
    expect(baseUsername("x".repeat(40))).toHaveLength(32);
    for (const raw of ["alice", "..a..b..", "张", "a.".repeat(30), '#o\'brien, jr+x "q"']) {
      for (const candidate of usernameCandidates(baseUsername(raw))) {
        expect(requireUsername(candidate)).toBe(candidate);
      }
    }
  });

  it("offers distinct fallbacks after the base", () => {
    const candidates = usernameCandidates("alice");
    expect(candidates[0]).toBe("alice");
    expect(new Set(candidates).size).toBe(candidates.length);
  });

  it("cleans names and emails", () => {
    expect(cleanName("  Zoe\u0007  ")).toBe("Zoe");
    expect(cleanName(undefined)).toBe("");
    expect([...cleanName("é".repeat(100))]).toHaveLength(64);
    expect(cleanEmail(" a@b.org ")).toBe("a@b.org");
    expect(cleanEmail("not-an-email")).toBeUndefined();
    expect(cleanEmail(undefined)).toBeUndefined();
  });
});
