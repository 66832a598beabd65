import { Secret, TOTP } from "otpauth";
import { describe, expect, it } from "vitest";
import {
  hashRecoveryCode,
  isFreshStep,
  matchingTimeStep,
  newRecoveryCode,
  newTotpSecret,
  otpauthUri,
  timeStepAt,
} from "./totp-codes.ts";

const codeAt = (secret: string, timestamp: number) =>
  TOTP.generate({ secret: Secret.fromBase32(secret), timestamp });

describe("TOTP time steps", () => {
  const secret = newTotpSecret();
  const now = 1_800_000_000_000;

  it("accepts the current code and one step either side, naming the step it belongs to", () => {
    expect(matchingTimeStep(secret, codeAt(secret, now), now)).toBe(timeStepAt(now));
    expect(matchingTimeStep(secret, codeAt(secret, now - 30_000), now)).toBe(timeStepAt(now) - 1);
    expect(matchingTimeStep(secret, codeAt(secret, now + 30_000), now)).toBe(timeStepAt(now) + 1);
  });

  it("refuses codes two steps away, of another secret, or not 6 digits", () => {
    expect(matchingTimeStep(secret, codeAt(secret, now - 60_000), now)).toBeUndefined();
    expect(matchingTimeStep(secret, codeAt(secret, now + 60_000), now)).toBeUndefined();
    const other = newTotpSecret();
    const otherCode = codeAt(other, now);
    if (otherCode !== codeAt(secret, now)) expect(matchingTimeStep(secret, otherCode, now)).toBeUndefined();
    expect(matchingTimeStep(secret, "12345", now)).toBeUndefined();
    expect(matchingTimeStep(secret, "abcdef", now)).toBeUndefined();
  });

  it("replay rule: a step is accepted once, and never an older one after a newer", () => {
    expect(isFreshStep(100, null)).toBe(true);
    expect(isFreshStep(100, 100)).toBe(false);
    expect(isFreshStep(99, 100)).toBe(false);
    expect(isFreshStep(101, 100)).toBe(true);
  });

  it("builds an otpauth URI with issuer Beep and the email as label, SHA1, 6 digits, 30 s", () => {
    const uri = new URL(otpauthUri(secret, "Beep", "ada@example.org"));
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.host).toBe("totp");
    expect(decodeURIComponent(uri.pathname)).toBe("/Beep:ada@example.org");
    expect(uri.searchParams.get("issuer")).toBe("Beep");
    expect(uri.searchParams.get("secret")).toBe(secret);
    expect(uri.searchParams.get("algorithm")).toBe("SHA1");
    expect(uri.searchParams.get("digits")).toBe("6");
    expect(uri.searchParams.get("period")).toBe("30");
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  });
});

describe("recovery codes", () => {
  it("are 80-bit base32 codes in groups of four, all different", () => {
    const codes = Array.from({ length: 1000 }, newRecoveryCode);
    for (const code of codes) expect(code).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it("hash the same however the user types them, and differently from each other", () => {
    const code = newRecoveryCode();
    const hash = hashRecoveryCode(code);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRecoveryCode(` ${code.toUpperCase().replaceAll("-", " ")} `)).toBe(hash);
    expect(hashRecoveryCode(code.replaceAll("-", ""))).toBe(hash);
    expect(hashRecoveryCode(newRecoveryCode())).not.toBe(hash);
    expect(hash).not.toContain(code.replaceAll("-", ""));
  });
});
