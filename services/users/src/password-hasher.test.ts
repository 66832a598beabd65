import { describe, expect, it } from "vitest";
import { PasswordHasher } from "./password-hasher.ts";
import { MAX_PASSWORD_LENGTH } from "./user-input.ts";

const hasher = new PasswordHasher({ memoryKib: 8_192, iterations: 1, maxConcurrent: 2 });

describe("PasswordHasher", () => {
  it("matches the right password and nothing else, never truncating", async () => {
    const long = "é".repeat(MAX_PASSWORD_LENGTH);
    const stored = await hasher.hash(long);
    expect(await hasher.verify(stored, long)).toBe(true);
    expect(await hasher.verify(stored, long.slice(0, -1))).toBe(false);
    expect(await hasher.verify(stored, `${long}é`)).toBe(false);
  });

  it("answers false for an empty password, an account without one and a malformed hash", async () => {
    const stored = await hasher.hash("correct horse battery");
    expect(await hasher.verify(stored, "")).toBe(false);
    expect(await hasher.verify("!ldap", "correct horse battery")).toBe(false);
    expect(await hasher.verify("$argon2id$garbage", "correct horse battery")).toBe(false);
  });
});
