import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { newTotpSecret } from "./totp-codes.ts";
import { TotpSecretBox } from "./totp-secret-box.ts";

describe("TotpSecretBox", () => {
  const key = randomBytes(32).toString("base64");
  const secret = newTotpSecret();

  it("stores an encrypted secret that only the same key and account open", () => {
    const box = new TotpSecretBox(key);
    const stored = box.seal(secret, "42");
    expect(stored).not.toContain(secret);
    expect(box.seal(secret, "42")).not.toBe(stored);
    expect(box.open(stored, "42")).toBe(secret);
    expect(() => box.open(stored, "43")).toThrow();
    expect(() => new TotpSecretBox(randomBytes(32).toString("base64")).open(stored, "42")).toThrow();
    expect(() => new TotpSecretBox("").open(stored, "42")).toThrow(/secretKey/);
  });

  it("without a key stores secrets as they are, and reads them after a key is set", () => {
    const stored = new TotpSecretBox("").seal(secret, "42");
    expect(stored).toBe(secret);
    expect(new TotpSecretBox(key).open(stored, "42")).toBe(secret);
  });

  it("refuses a key that is not 32 bytes", () => {
    expect(() => new TotpSecretBox(randomBytes(16).toString("base64"))).toThrow(/32 bytes/);
  });
});
