/** A validated TTL in whole milliseconds (rounded up); throws unless `ttlMs` is a positive finite number. */
export function toTtlMs(ttlMs: number, op: string, key: string): number {
  if (typeof ttlMs !== "number" || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`cache ${op} ${JSON.stringify(key)}: ttlMs must be a positive number, got ${ttlMs}`);
  }
  return Math.ceil(ttlMs);
}

/** Throws unless `by` is a safe integer. */
export function assertIncrement(by: number, key: string): void {
  if (!Number.isSafeInteger(by)) {
    throw new RangeError(`cache incr ${JSON.stringify(key)}: by must be a safe integer, got ${by}`);
  }
}
