import { BeepError, type ErrorCode, type ErrorDetails, isErrorCode } from "@beep/errors";
import { Code, ConnectError, decodeBinaryHeader, encodeBinaryHeader } from "@connectrpc/connect";

/**
 * Error metadata key carrying `{ code, details }` of a BeepError across a hop. The `-bin`
 * suffix is gRPC's convention for base64 values, so any gRPC stack passes it through intact.
 */
export const BEEP_ERROR_METADATA_KEY = "beep-error-bin";

/** Message sent for any error that is not a BeepError; the real one stays in the server log. */
export const INTERNAL_ERROR_MESSAGE = "Internal error";

// Wire status per Beep code. Several Beep codes share a Connect code; the exact Beep code
// travels in the metadata, so the mapping only matters to non-Beep clients (curl, grpcurl).
const TO_CONNECT: Record<ErrorCode, Code> = {
  UNAUTHENTICATED: Code.Unauthenticated,
  FORBIDDEN: Code.PermissionDenied,
  NOT_FOUND: Code.NotFound,
  BAD_USER_INPUT: Code.InvalidArgument,
  CONFLICT: Code.AlreadyExists,
  RATE_LIMITED: Code.ResourceExhausted,
  LIMIT_EXCEEDED: Code.ResourceExhausted,
  TWO_FACTOR_REQUIRED: Code.Unauthenticated,
  DEADLINE_EXCEEDED: Code.DeadlineExceeded,
  UNAVAILABLE: Code.Unavailable,
  INTERNAL: Code.Internal,
};

// For errors without Beep metadata: raised by the transport itself (deadline, network) or a non-Beep peer.
const FROM_CONNECT: Record<Code, ErrorCode> = {
  [Code.Canceled]: "UNAVAILABLE",
  [Code.Unknown]: "INTERNAL",
  [Code.InvalidArgument]: "BAD_USER_INPUT",
  [Code.DeadlineExceeded]: "DEADLINE_EXCEEDED",
  [Code.NotFound]: "NOT_FOUND",
  [Code.AlreadyExists]: "CONFLICT",
  [Code.PermissionDenied]: "FORBIDDEN",
  [Code.ResourceExhausted]: "LIMIT_EXCEEDED",
  [Code.FailedPrecondition]: "CONFLICT",
  [Code.Aborted]: "CONFLICT",
  [Code.OutOfRange]: "BAD_USER_INPUT",
  [Code.Unimplemented]: "INTERNAL",
  [Code.Internal]: "INTERNAL",
  [Code.Unavailable]: "UNAVAILABLE",
  [Code.DataLoss]: "INTERNAL",
  [Code.Unauthenticated]: "UNAUTHENTICATED",
};

/** The Connect/gRPC status a Beep error code is sent with. */
export function connectCodeFor(code: ErrorCode): Code {
  return TO_CONNECT[code];
}

/** The Beep error code for a Connect/gRPC status that arrived without Beep metadata. */
export function beepCodeFor(code: Code): ErrorCode {
  return FROM_CONNECT[code] ?? "INTERNAL";
}

/** Server side: a BeepError as a ConnectError whose metadata carries its code and details. */
export function beepToConnectError(error: BeepError): ConnectError {
  const payload = JSON.stringify({ code: error.code, details: error.details });
  const metadata = new Headers({ [BEEP_ERROR_METADATA_KEY]: encodeBinaryHeader(payload) });
  return new ConnectError(error.message, connectCodeFor(error.code), metadata, undefined, error);
}

/**
 * Client side: any error out of a transport as a BeepError. Beep metadata restores the
 * original code and details; otherwise the Connect code is mapped. The ConnectError is the cause.
 */
export function connectToBeepError(reason: unknown): BeepError {
  if (reason instanceof BeepError) return reason;
  const error = ConnectError.from(reason);
  const carried = readCarried(error.metadata.get(BEEP_ERROR_METADATA_KEY));
  if (carried) return new BeepError(carried.code, error.rawMessage, carried.details, { cause: error });
  return new BeepError(beepCodeFor(error.code), error.rawMessage, {}, { cause: error });
}

function readCarried(header: string | null): { code: ErrorCode; details: ErrorDetails } | undefined {
  if (!header) return undefined;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(decodeBinaryHeader(header)));
    if (!isRecord(parsed) || typeof parsed.code !== "string" || !isErrorCode(parsed.code)) return undefined;
    return { code: parsed.code, details: readDetails(parsed.details) };
  } catch {
    // Why: a malformed header from a foreign peer must not hide the real error; fall back to the status.
    return undefined;
  }
}

// Copies only the known ErrorDetails fields, with their types checked.
function readDetails(value: unknown): ErrorDetails {
  const details: ErrorDetails = {};
  if (!isRecord(value)) return details;
  if (typeof value.field === "string") details.field = value.field;
  if (typeof value.retryAfterMs === "number") details.retryAfterMs = value.retryAfterMs;
  if (typeof value.challengeToken === "string") details.challengeToken = value.challengeToken;
  return details;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
