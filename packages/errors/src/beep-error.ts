/** Stable error codes of the public API (api.md); they become GraphQL `extensions.code`. */
export const ERROR_CODES = [
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "BAD_USER_INPUT",
  "CONFLICT",
  "RATE_LIMITED",
  "LIMIT_EXCEEDED",
  "TWO_FACTOR_REQUIRED",
  "DEADLINE_EXCEEDED",
  "UNAVAILABLE",
  "INTERNAL",
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Extra, safe-to-show facts an error carries across service hops. */
export interface ErrorDetails {
  /** For BAD_USER_INPUT and CONFLICT: the input field at fault. */
  field?: string;
  /** For RATE_LIMITED: when to try again. */
  retryAfterMs?: number;
  /** For TWO_FACTOR_REQUIRED: the challenge to answer. */
  challengeToken?: string;
}

/**
 * An error a user may see. Its message must be safe to show (no SQL, no
 * stack, no secret); anything else thrown is reported as INTERNAL.
 */
export class BeepError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BeepError";
    this.code = code;
    this.details = details;
  }
}

/** True for one of the public error codes. */
export function isErrorCode(value: string): value is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(value);
}

/** Shorthands for the common cases. */
export const errors = {
  unauthenticated: (message = "Authentication required") => new BeepError("UNAUTHENTICATED", message),
  forbidden: (message = "Not allowed") => new BeepError("FORBIDDEN", message),
  notFound: (what: string) => new BeepError("NOT_FOUND", `${what} not found`),
  badInput: (field: string, message: string) => new BeepError("BAD_USER_INPUT", message, { field }),
  conflict: (field: string, message: string) => new BeepError("CONFLICT", message, { field }),
  rateLimited: (retryAfterMs: number) =>
    new BeepError("RATE_LIMITED", "Too many attempts, try again later", { retryAfterMs }),
};
