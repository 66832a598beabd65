import { BeepError } from "@beep/errors";
import { isLanguage, type Language } from "@beep/mail";

const E164 = /^\+[1-9]\d{6,14}$/;

/** A phone number in E.164 (`+33612345678`); spaces, dots and dashes are dropped first. */
export function requirePhone(value: string, field = "phone"): string {
  const phone = value.replace(/[\s.\-()]/g, "");
  if (!E164.test(phone)) {
    throw new BeepError("BAD_USER_INPUT", "phone must be in international format, like +33612345678", {
      field,
    });
  }
  return phone;
}

/** A supported language (`en`, `fr`). */
export function requireLanguage(value: string): Language {
  const language = value.trim().toLowerCase();
  if (!isLanguage(language)) {
    throw new BeepError("BAD_USER_INPUT", "language must be en or fr", { field: "language" });
  }
  return language;
}
