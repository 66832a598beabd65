import { BeepError } from "@beep/errors";
import type { RateLimiter, RateLimitStore } from "@beep/limits";

/** The `auth.signInLimit…` settings. */
export interface SignInLimitSettings {
  signInLimitAccountAttempts: number;
  signInLimitAccountWindowSeconds: number;
  signInLimitIpAttempts: number;
  signInLimitIpWindowSeconds: number;
  /** 0 turns the progressive block off. */
  signInLimitDelayAfterFailures: number;
  signInLimitDelayBaseMs: number;
  signInLimitDelayMaxMs: number;
}

/** Why an attempt was refused, for the audit line. */
export type ThrottleReason = "account" | "ip" | "delay";

/** A refused sign-in: the client may retry after `retryAfterMs`. */
export class SignInThrottled extends BeepError {
  constructor(
    retryAfterMs: number,
    readonly reason: ThrottleReason,
  ) {
    super("RATE_LIMITED", "Too many sign-in attempts; try again later", { retryAfterMs });
  }
}

/**
 * Brute-force protection of password sign-in (AUTH-11). Every attempt counts
 * against the account (normalized email, whether it exists or not, so the
 * answer never tells) and the client IP; success resets the account. After
 * `delayAfterFailures` attempts without success, each further failure blocks
 * the account for a doubling time (progressive delay).
 */
export class SignInThrottle {
  private readonly account: RateLimiter;
  private readonly ip: RateLimiter;
  private readonly delay: RateLimiter;

  constructor(
    store: RateLimitStore,
    private readonly settings: SignInLimitSettings,
  ) {
    this.account = store.limiter({
      name: "signin-account",
      points: settings.signInLimitAccountAttempts,
      windowSeconds: settings.signInLimitAccountWindowSeconds,
    });
    this.ip = store.limiter({
      name: "signin-ip",
      points: settings.signInLimitIpAttempts,
      windowSeconds: settings.signInLimitIpWindowSeconds,
    });
    // One point: the key only ever exists as a block.
    this.delay = store.limiter({
      name: "signin-delay",
      points: 1,
      windowSeconds: settings.signInLimitAccountWindowSeconds,
    });
  }

  /** The key of an account: the email as sign-in looks it up (trimmed, lower-cased, bounded). */
  static accountKey(email: string): string {
    return email.trim().toLowerCase().slice(0, 254);
  }

  /** Counts one attempt; throws RATE_LIMITED (with retryAfterMs) when the account or IP is over. */
  async admit(email: string, ip: string): Promise<void> {
    const key = SignInThrottle.accountKey(email);
    const delayed = await this.delay.peek(key);
    if (!delayed.allowed) throw new SignInThrottled(delayed.retryAfterMs, "delay");
    const [account, byIp] = await Promise.all([this.account.consume(key), this.ip.consume(ip || "unknown")]);
    if (!account.allowed) throw new SignInThrottled(account.retryAfterMs, "account");
    if (!byIp.allowed) throw new SignInThrottled(byIp.retryAfterMs, "ip");
  }

  /** A correct password: the account starts afresh and the IP gets its point back. */
  async succeeded(email: string, ip: string): Promise<void> {
    const key = SignInThrottle.accountKey(email);
    await Promise.all([this.account.reset(key), this.delay.reset(key), this.ip.reward(ip || "unknown")]);
  }

  /** A wrong pair: past the threshold, blocks the account for a doubling time. */
  async failed(email: string): Promise<void> {
    const after = this.settings.signInLimitDelayAfterFailures;
    if (after === 0) return;
    const key = SignInThrottle.accountKey(email);
    const { remaining } = await this.account.peek(key);
    const failures = this.settings.signInLimitAccountAttempts - remaining;
    if (failures < after) return;
    const ms = Math.min(
      this.settings.signInLimitDelayMaxMs,
      this.settings.signInLimitDelayBaseMs * 2 ** Math.min(30, failures - after),
    );
    await this.delay.block(key, ms);
  }
}
