import { randomBytes, timingSafeEqual } from "node:crypto";
import { BeepError } from "@beep/errors";

/** The header a service sets to call an internal-only RPC (ADR 0004). */
export const INTERNAL_TOKEN_HEADER = "x-beep-internal-token";

let processToken: string | undefined;

/**
 * The shared secret of internal calls: config `rpc.internalToken`, or, when it is empty, a random token
 * made once per process (so an all-in-one process works with no setting, and nothing outside the
 * process can guess it; split deployments must set the same value on every process).
 */
export function internalToken(configured: string): string {
  if (configured !== "") return configured;
  processToken ??= randomBytes(32).toString("base64url");
  return processToken;
}

/** Call options a service passes to reach an internal-only RPC. */
export function internalCallOptions(configured: string): { headers: Record<string, string> } {
  return { headers: { [INTERNAL_TOKEN_HEADER]: internalToken(configured) } };
}

/** Guards internal-only RPCs: the caller must present the shared token (compared in constant time). */
export class InternalCallerGuard {
  private readonly expected: Buffer;

  constructor(configured: string) {
    this.expected = Buffer.from(internalToken(configured));
  }

  /** FORBIDDEN unless `headers` carries the internal token. */
  require(headers: Headers): void {
    const given = Buffer.from(headers.get(INTERNAL_TOKEN_HEADER) ?? "");
    if (given.length !== this.expected.length || !timingSafeEqual(given, this.expected)) {
      throw new BeepError("FORBIDDEN", "This call is for Beep services only");
    }
  }
}
