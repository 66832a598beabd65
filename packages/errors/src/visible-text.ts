// White space, format characters (zero-width spaces and joiners, bidi controls, the BOM), controls, and the
// blank letters people use for "invisible" names (Hangul fillers, the blank braille pattern).
const INVISIBLE = /^[\p{White_Space}\p{Cf}\p{Cc}\u115f\u1160\u2800\u3164\uffa0]*$/u;

/** True when the text shows something: it is not made only of invisible characters (nor empty). */
export function hasVisibleCharacter(text: string): boolean {
  return !INVISIBLE.test(text);
}
