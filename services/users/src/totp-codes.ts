import { createHash, randomBytes } from "node:crypto";
import { Secret, TOTP } from "otpauth";

/** TOTP parameters of every Beep credential: RFC 6238 defaults that every authenticator app supports. */
export const TOTP_PARAMS = { algorithm: "SHA1", digits: 6, period: 30 } as const;

/** Time steps either side of now that a code may come from (clock drift). */
export const TOTP_WINDOW = 1;

/** Recovery codes handed out per enrolment or regeneration. */
export const RECOVERY_CODE_COUNT = 10;

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/** A new TOTP secret (160 random bits, the RFC 4226 recommendation), base32. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The otpauth:// URI an authenticator app reads from a QR code. */
export function otpauthUri(secret: string, issuer: string, label: string): string {
  return new TOTP({ issuer, label, secret: Secret.fromBase32(secret), ...TOTP_PARAMS }).toString();
}

/** The time step (unix seconds / period) of a timestamp. */
export function timeStepAt(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PARAMS.period);
}

/**
 * The time step whose code `code` is, within ±{@link TOTP_WINDOW} steps of
 * `nowMs`, or undefined when it matches none. Callers accept a step only if it
 * is later than the last one accepted for the account (replay protection).
 */
export function matchingTimeStep(secret: string, code: string, nowMs: number): number | undefined {
  if (!isTotpCode(code)) return undefined;
  const delta = TOTP.validate({
    token: code,
    secret: Secret.fromBase32(secret),
    ...TOTP_PARAMS,
    timestamp: nowMs,
    window: TOTP_WINDOW,
  });
  return delta === null ? undefined : timeStepAt(nowMs) + delta;
}

/** Whether a step may be accepted after `lastAcceptedStep`: each step works once, and never an older one. */
export function isFreshStep(step: number, lastAcceptedStep: number | null): boolean {
  return lastAcceptedStep === null || step > lastAcceptedStep;
}

/** True for something shaped like a TOTP code (6 digits), as opposed to a recovery code. */
export function isTotpCode(code: string): boolean {
  return /^\d{6}$/.test(code);
}

/** Strips what people type around a code (spaces, dashes) and lower-cases it. */
export function normalizeCode(code: string): string {
  return code.slice(0, 64).replace(/[\s-]/g, "").toLowerCase();
}

/**
 * A new recovery code: 80 random bits as 16 base32 characters in groups of 4
 * (`abcd-efgh-ijkl-mnop`). That much entropy makes an unsalted SHA-256 safe.
 */
export function newRecoveryCode(): string {
  const bytes = randomBytes(16);
  const chars = [...bytes].map((byte) => BASE32[byte & 31]).join("");
  return chars.match(/.{4}/g)?.join("-") ?? chars;
}

/** SHA-256 of a normalized recovery code, as stored. */
export function hashRecoveryCode(code: string): string {
  return createHash("sha256").update(normalizeCode(code)).digest("hex");
}

/** A new sign-in challenge token (256 random bits). */
export function newChallengeToken(): string {
  return randomBytes(32).toString("base64url");
}

/** SHA-256 of a challenge token, as stored. */
export function hashChallengeToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
