import { BeepError } from "./beep-error.ts";

// White space, format characters (zero-width spaces and joiners, bidi controls, the BOM), controls, and the
// blank letters people use for "invisible" names (Hangul fillers, the blank braille pattern).
const INVISIBLE = /^[\p{White_Space}\p{Cf}\p{Cc}\u115f\u1160\u2800\u3164\uffa0]*$/u;

/** True when the text shows something: it is not made only of invisible characters (nor empty). */
export function hasVisibleCharacter(text: string): boolean {
  return !INVISIBLE.test(text);
}

/** Throws BAD_USER_INPUT on `field` when the text shows nothing ({@link hasVisibleCharacter}). */
export function assertVisibleText(text: string, field: string, what = "Name"): void {
  if (!hasVisibleCharacter(text))
    throw new BeepError("BAD_USER_INPUT", `${what} must show at least one visible character`, { field });
}
