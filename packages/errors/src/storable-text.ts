import { BeepError } from "./beep-error.ts";

// String.prototype.isWellFormed (ES2024, in Node 20; this project's lib is ES2023): false when a UTF-16
// surrogate lacks its pair. Native, about 60 times faster than a regular expression over 4,000 characters.
type Es2024String = string & { isWellFormed(): boolean };

/** What BAD_USER_INPUT says about text that cannot be stored. */
export const UNSTORABLE_TEXT_MESSAGE = "Text may not contain NUL characters or unpaired surrogates";

/**
 * True when the text can be stored as it is. A NUL is refused by PostgreSQL's text and jsonb. An unpaired
 * surrogate has no UTF-8 form: jsonb refuses its \u escape, and text would silently get U+FFFD instead.
 */
export function isStorableText(text: string): boolean {
  return (text as Es2024String).isWellFormed() && !text.includes("\u0000");
}

/** Throws BAD_USER_INPUT on `field` when the text cannot be stored as it is ({@link isStorableText}). */
export function assertStorableText(text: string, field: string): void {
  if (!isStorableText(text)) throw new BeepError("BAD_USER_INPUT", UNSTORABLE_TEXT_MESSAGE, { field });
}

/**
 * The dotted path (`.input.content`, `.ids.2`, after `path`) of the first string in `value` that cannot be
 * stored, through plain objects and arrays (JSON values, protobuf-es messages); byte arrays are skipped.
 */
export function firstUnstorablePath(value: unknown, path: string): string | undefined {
  if (typeof value === "string") return isStorableText(value) ? undefined : path;
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value)) return undefined;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = firstUnstorablePath(value[index], `${path}.${index}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const key in value) {
    const found = firstUnstorablePath((value as Record<string, unknown>)[key], `${path}.${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}
