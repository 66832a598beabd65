import { BeepError } from "@beep/errors";

/** Longest emoji accepted, in UTF-8 bytes (family sequences take 25). */
export const MAX_EMOJI_BYTES = 32;

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });
// Why the constructor: the `v` flag (RGI_Emoji, sequences included) is newer than the TS target (es2023).
// biome-ignore lint/complexity/useRegexLiterals: a literal with the v flag does not compile for es2023
const RGI_EMOJI = new RegExp("^\\p{RGI_Emoji}$", "v");
// A pictograph without its presentation selector (❤, ☺), as keyboards often send it.
const BARE_PICTOGRAPH = /^\p{Extended_Pictographic}\uFE0F?$/u;

/**
 * The emoji of a reaction (MSG-9): exactly one grapheme cluster that is a Unicode emoji, at most
 * {@link MAX_EMOJI_BYTES} bytes; anything else (text, several emoji, custom emoji) is BAD_USER_INPUT.
 */
export function checkEmoji(value: string): string {
  const ok =
    typeof value === "string" &&
    value.length > 0 &&
    Buffer.byteLength(value, "utf8") <= MAX_EMOJI_BYTES &&
    [...graphemes.segment(value)].length === 1 &&
    (RGI_EMOJI.test(value) || BARE_PICTOGRAPH.test(value));
  if (!ok) throw new BeepError("BAD_USER_INPUT", "A reaction is one Unicode emoji", { field: "emoji" });
  return value;
}
