import { randomInt } from "node:crypto";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A directory name made safe for an account: NFC, no control characters, trimmed, at most 64 characters. */
export function cleanName(value: string | undefined): string {
  if (value === undefined) return "";
  const text = value
    .normalize("NFC")
    .replace(/\p{Cc}/gu, "")
    .trim();
  return [...text].slice(0, 64).join("").trim();
}

/** The directory email when it is a usable address, else undefined. */
export function cleanEmail(value: string | undefined): string | undefined {
  const email = value?.trim();
  return email && email.length <= 254 && EMAIL.test(email) ? email : undefined;
}

/**
 * A valid Beep username (2–32 of `A-Za-z0-9_.`, no leading, trailing or
 * double dots) derived from a directory value: accents dropped, anything
 * else becomes `_`; `user` when nothing usable is left.
 */
export function baseUsername(value: string): string {
  const ascii = value
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .replace(/[^A-Za-z0-9_.]/g, "_")
    .replace(/\.{2,}/g, ".")
    .replace(/_{2,}/g, "_")
    .replace(/^[._]+|[._]+$/g, "");
  const cut = ascii.slice(0, 32).replace(/\.+$/, "");
  return cut.length >= 2 ? cut : "user";
}

/** Usernames to try, in order: the base, then the base with a random numeric suffix. */
export function usernameCandidates(base: string, count = 5): string[] {
  const stem = base.slice(0, 25).replace(/\.+$/, "");
  return [base, ...Array.from({ length: count }, () => `${stem}_${randomInt(1_000, 1_000_000)}`)];
}
