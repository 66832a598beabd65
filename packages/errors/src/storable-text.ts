import { BeepError } from "./beep-error.ts";

// A NUL (PostgreSQL text and jsonb refuse it) or a UTF-16 surrogate without its pair (no UTF-8 form: jsonb
// refuses its \u escape, and text would silently get U+FFFD instead).
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What BAD_USER_INPUT says about text that cannot be stored. */
export const UNSTORABLE_TEXT_MESSAGE = "Text may not contain NUL characters or unpaired surrogates";

/** True when the text can be stored as it is: no NUL and no unpaired surrogate. */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/** Throws BAD_USER_INPUT on `field` when the text cannot be stored as it is ({@link isStorableText}). */
export function assertStorableText(text: string, field: string): void {
  if (!isStorableText(text)) throw new BeepError("BAD_USER_INPUT", UNSTORABLE_TEXT_MESSAGE, { field });
}
