import { hash, verify } from "@node-rs/argon2";
import { MAX_PASSWORD_LENGTH } from "./user-input.ts";

// @node-rs/argon2's Algorithm.Argon2id; its const enum cannot be imported under verbatimModuleSyntax.
const ARGON2ID = 2;

/** argon2id cost parameters (OWASP: m=19456 KiB, t=2, p=1). */
export interface PasswordHashOptions {
  memoryKib: number;
  iterations: number;
  /** Hashes computed at once; more wait in line, so a sign-in burst cannot exhaust memory. */
  maxConcurrent: number;
}

/** Hashes and verifies passwords with argon2id under a concurrency cap. */
export class PasswordHasher {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly options: PasswordHashOptions) {}

  /** An argon2id PHC string for the password. */
  hash(password: string): Promise<string> {
    return this.limited(() =>
      hash(password, {
        algorithm: ARGON2ID,
        memoryCost: this.options.memoryKib,
        timeCost: this.options.iterations,
        parallelism: 1,
      }),
    );
  }

  /**
   * True when the password matches; a malformed hash counts as no match. An account without a
   * password (`!ldap`, `!oidc`…) takes as long as a wrong password, so timing does not tell.
   */
  verify(passwordHash: string, password: string): Promise<boolean> {
    // Empty, over-long or hash-less candidates still cost one verification: timing tells nothing.
    if (
      !passwordHash.startsWith("$") ||
      password.length === 0 ||
      [...password].length > MAX_PASSWORD_LENGTH
    ) {
      return this.verifyNothing(password);
    }
    return this.verifyAgainst(passwordHash, password);
  }

  /**
   * Spends the same work as a real verification and returns false: used for
   * unknown accounts so their answer takes as long as a wrong password.
   */
  async verifyNothing(password: string): Promise<false> {
    this.dummyHash ??= this.hash("beep-timing-equaliser");
    await this.verifyAgainst(await this.dummyHash, password.slice(0, MAX_PASSWORD_LENGTH) || "-");
    return false;
  }

  private verifyAgainst(passwordHash: string, password: string): Promise<boolean> {
    return this.limited(async () => {
      try {
        return await verify(passwordHash, password);
      } catch {
        return false;
      }
    });
  }

  private async limited<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.options.maxConcurrent) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter; otherwise release it.
      if (next) next();
      else this.running--;
    }
  }
}
