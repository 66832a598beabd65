import { describe, expect, it } from "vitest";
import { requireLanguage, requirePhone } from "./contact-input.ts";

describe("contact input", () => {
  it("accepts E.164 phones, dropping spaces, dots and dashes", () => {
    expect(requirePhone("+33 6 12-34.56.78")).toBe("+33612345678");
    expect(requirePhone("+15551234567")).toBe("+15551234567");
  });

  it("refuses national or malformed phones with the field named", () => {
    for (const bad of ["0612345678", "+0612345678", "+33abc", "+1", ""]) {
      expect(() => requirePhone(bad)).toThrow(
        expect.objectContaining({ code: "BAD_USER_INPUT", details: { field: "phone" } }),
      );
    }
  });

  it("accepts en and fr in any case, refuses others", () => {
    expect(requireLanguage(" FR ")).toBe("fr");
    expect(requireLanguage("en")).toBe("en");
    expect(() => requireLanguage("de")).toThrow("language must be en or fr");
  });
});
