export {
  BeepError,
  ERROR_CODES,
  type ErrorCode,
  type ErrorDetails,
  errors,
  isErrorCode,
} from "./beep-error.ts";
export {
  assertStorableText,
  firstUnstorablePath,
  isStorableText,
  UNSTORABLE_TEXT_MESSAGE,
} from "./storable-text.ts";
export { assertVisibleText, hasVisibleCharacter } from "./visible-text.ts";
