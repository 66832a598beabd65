export {
  BeepError,
  ERROR_CODES,
  type ErrorCode,
  type ErrorDetails,
  errors,
  isErrorCode,
} from "./beep-error.ts";
