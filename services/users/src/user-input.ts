import { assertVisibleText, BeepError } from "@beep/errors";

/** Longest accepted password, in characters; long enough for passphrases, short enough to bound hashing. */
export const MAX_PASSWORD_LENGTH = 1024;
/** Shortest accepted password, in characters (NIST SP 800-63B). */
export const MIN_PASSWORD_LENGTH = 8;

// A short blocklist of the most common passwords; the identity issue may grow it.
const COMMON_PASSWORDS = new Set([
  "password",
  "password1",
  "12345678",
  "123456789",
  "1234567890",
  "qwertyuiop",
  "iloveyou",
  "11111111",
  "00000000",
  "abc12345",
  "qwerty123",
  "letmein1",
  "football",
  "baseball",
  "sunshine",
  "princess",
  "welcome1",
  "passw0rd",
]);

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const USERNAME = /^[A-Za-z0-9_.]{2,32}$/;

function chars(value: string): number {
  return [...value].length;
}

/** Trimmed, NFC-normalised text, or BAD_USER_INPUT naming the field. */
export function requireText(field: string, value: string, max: number, min = 1): string {
  const text = value.normalize("NFC").trim();
  if (chars(text) < min) throw new BeepError("BAD_USER_INPUT", `${field} is required`, { field });
  if (chars(text) > max)
    throw new BeepError("BAD_USER_INPUT", `${field} must be at most ${max} characters`, { field });
  // Control characters break rendering and logs; none belong in names.
  if (/\p{Cc}/u.test(text))
    throw new BeepError("BAD_USER_INPUT", `${field} contains control characters`, { field });
  // Names of zero-width or filler characters only look blank: a common way to impersonate or hide.
  if (text !== "") assertVisibleText(text, field, field);
  return text;
}

/** A syntactically valid email address, trimmed. */
export function requireEmail(value: string): string {
  const email = value.trim();
  if (email.length > 254 || !EMAIL.test(email)) {
    throw new BeepError("BAD_USER_INPUT", "email is not a valid address", { field: "email" });
  }
  return email;
}

/** A username: 2–32 letters, digits, `_` or `.`, not starting/ending with `.` nor holding `..`. */
export function requireUsername(value: string): string {
  const username = value.trim();
  if (
    !USERNAME.test(username) ||
    username.startsWith(".") ||
    username.endsWith(".") ||
    username.includes("..")
  ) {
    throw new BeepError(
      "BAD_USER_INPUT",
      "username must be 2–32 letters, digits, _ or . (no leading, trailing or double dots)",
      { field: "username" },
    );
  }
  return username;
}

/** A password of 8–1024 characters (any Unicode, never truncated) that is not a common one. */
export function requirePassword(value: string): string {
  const length = chars(value);
  if (length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
    throw new BeepError(
      "BAD_USER_INPUT",
      `password must be ${MIN_PASSWORD_LENGTH}–${MAX_PASSWORD_LENGTH} characters`,
      { field: "password" },
    );
  }
  if (COMMON_PASSWORDS.has(value.toLowerCase())) {
    throw new BeepError("BAD_USER_INPUT", "password is too common", { field: "password" });
  }
  return value;
}

/**
 * Runs a validation and renames the field of its BAD_USER_INPUT, for inputs
 * validated like another (`password` → `newPassword`).
 */
export function renameInputField<T>(field: string, validate: () => T): T {
  try {
    return validate();
  } catch (error) {
    if (error instanceof BeepError && error.code === "BAD_USER_INPUT") {
      const original = error.details.field ?? "";
      const message = original ? error.message.replace(new RegExp(`^${original}`), field) : error.message;
      throw new BeepError(error.code, message, { field });
    }
    throw error;
  }
}
