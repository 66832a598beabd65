/** 2026-01-01T00:00:00Z: ids count milliseconds from here, leaving 41 bits for ~69 years. */
export const BEEP_EPOCH_MS = 1_767_225_600_000;

const WORKER_BITS = 10n;
const SEQUENCE_BITS = 12n;
const MAX_SEQUENCE = (1n << SEQUENCE_BITS) - 1n;

/**
 * 64-bit time-ordered ids (Twitter/Discord snowflakes): 41 bits of ms since
 * {@link BEEP_EPOCH_MS}, 10 bits of worker, 12 bits of sequence. Ids from one
 * generator strictly increase, even when the clock steps back.
 */
export class SnowflakeGenerator {
  private lastMs = 0n;
  private sequence = 0n;
  private readonly worker: bigint;

  constructor(workerId: number = Math.floor(Math.random() * 1024)) {
    if (!Number.isInteger(workerId) || workerId < 0 || workerId > 1023) {
      throw new RangeError(`snowflake worker id must be an integer in 0..1023, got ${workerId}`);
    }
    this.worker = BigInt(workerId);
  }

  /** The next id as a decimal string (the API's id form). */
  next(): string {
    return this.nextBigInt().toString();
  }

  /** The next id as a bigint. */
  nextBigInt(): bigint {
    let now = BigInt(Date.now() - BEEP_EPOCH_MS);
    // A clock that went back (NTP step) must not produce smaller ids: keep using the last ms.
    if (now < this.lastMs) now = this.lastMs;
    if (now === this.lastMs) {
      this.sequence = (this.sequence + 1n) & MAX_SEQUENCE;
      // Sequence exhausted within one ms: borrow the next ms instead of spinning.
      if (this.sequence === 0n) now = this.lastMs + 1n;
    } else {
      this.sequence = 0n;
    }
    this.lastMs = now;
    return (now << (WORKER_BITS + SEQUENCE_BITS)) | (this.worker << SEQUENCE_BITS) | this.sequence;
  }
}

/** The creation time encoded in a snowflake id. */
export function snowflakeTime(id: string | bigint): Date {
  const value = typeof id === "bigint" ? id : BigInt(id);
  return new Date(Number(value >> (WORKER_BITS + SEQUENCE_BITS)) + BEEP_EPOCH_MS);
}

/** True for a decimal string that is a valid positive 64-bit id. */
export function isSnowflake(value: string): boolean {
  return /^[1-9][0-9]{0,19}$/.test(value) && BigInt(value) < 1n << 63n;
}

const defaultGenerator = new SnowflakeGenerator();

/** A new id from the process-wide generator. */
export function newId(): string {
  return defaultGenerator.next();
}
