import { BeepError } from "@beep/errors";
import type { RateLimiter, RateLimitStore } from "@beep/limits";
import { audit, type Logger } from "@beep/observability";
import type { HandlerContext } from "@connectrpc/connect";

/** The `auth.guessLimit…` settings. */
export interface GuessLimitSettings {
  guessLimitTargetAttempts: number;
  guessLimitTargetWindowSeconds: number;
  guessLimitIpAttempts: number;
  guessLimitIpWindowSeconds: number;
}

/** What one attempt is counted against: the account or destination it guesses at, and the client IP. */
export interface GuessKeys {
  /** Account id, email, phone, username…; omitted when the endpoint has none (counted per IP only). */
  target?: string;
  /** Client IP; omitted by RPCs that carry none (then only the target counts, never a shared bucket). */
  ip?: string;
}

/**
 * Attempts on one guessable endpoint (codes, TOTP, passwords), counted per target and per client IP
 * on the shared limits port (AUTH-11). Every attempt counts, so the answer never tells whether the
 * target exists; over either budget the attempt is refused with RATE_LIMITED and `retryAfterMs`.
 */
export class GuessLimiter {
  private readonly target: RateLimiter;
  private readonly ip: RateLimiter;

  constructor(
    store: RateLimitStore,
    private readonly endpoint: string,
    settings: GuessLimitSettings,
    private readonly logger: Logger,
  ) {
    const name = `guess-${endpoint.toLowerCase()}`;
    this.target = store.limiter({
      name: `${name}-target`,
      points: settings.guessLimitTargetAttempts,
      windowSeconds: settings.guessLimitTargetWindowSeconds,
    });
    this.ip = store.limiter({
      name: `${name}-ip`,
      points: settings.guessLimitIpAttempts,
      windowSeconds: settings.guessLimitIpWindowSeconds,
    });
  }

  /** The key of a target as typed by people: trimmed, lower-cased, bounded. */
  static targetKey(target: string): string {
    return target.trim().toLowerCase().slice(0, 320);
  }

  /** Counts one attempt; throws RATE_LIMITED when the target or the IP is over its budget. */
  async admit(keys: GuessKeys): Promise<void> {
    const target = keys.target === undefined ? "" : GuessLimiter.targetKey(keys.target);
    const [byTarget, byIp] = await Promise.all([
      target === "" ? undefined : this.target.consume(target),
      keys.ip ? this.ip.consume(keys.ip) : undefined,
    ]);
    const refused = [byTarget, byIp].filter((result) => result !== undefined && !result.allowed);
    if (refused.length === 0) return;
    const retryAfterMs = Math.max(...refused.map((result) => result?.retryAfterMs ?? 0));
    audit(this.logger, {
      action: "GUESS_RATE_LIMITED",
      outcome: "failure",
      ip: keys.ip,
      details: { endpoint: this.endpoint, scope: byIp?.allowed === false ? "ip" : "target", retryAfterMs },
    });
    throw new BeepError("RATE_LIMITED", "Too many attempts; try again later", { retryAfterMs });
  }
}

/** Makes one {@link GuessLimiter} per endpoint over one store. */
export class GuessLimits {
  constructor(
    private readonly store: RateLimitStore,
    private readonly settings: GuessLimitSettings,
    private readonly logger: Logger,
  ) {}

  limiter(endpoint: string): GuessLimiter {
    return new GuessLimiter(this.store, endpoint, this.settings, this.logger);
  }
}

type RequestOf<M> = M extends (request: infer R, context: HandlerContext) => unknown ? R : never;

/** How to key each limited RPC method of a service, from its request (and caller). */
export type GuessRules<S> = {
  [K in keyof S]?: (request: RequestOf<S[K]>, context: HandlerContext) => GuessKeys | Promise<GuessKeys>;
};

/**
 * Wraps the routes of a service so each method named in `rules` counts the attempt before any work
 * (hashing, directory bind, code lookup); the other methods pass through untouched.
 */
export function limitGuesses<S extends object>(routes: S, limits: GuessLimits, rules: GuessRules<S>): S {
  const wrapped: Record<string, unknown> = { ...(routes as Record<string, unknown>) };
  for (const [name, keysOf] of Object.entries(rules) as Array<
    [string, (request: unknown, context: HandlerContext) => GuessKeys | Promise<GuessKeys>]
  >) {
    const method = (routes as Record<string, (request: unknown, context: HandlerContext) => unknown>)[name];
    if (!method) throw new Error(`limitGuesses: no method ${name}`);
    const limiter = limits.limiter(name);
    wrapped[name] = async (request: unknown, context: HandlerContext) => {
      await limiter.admit(await keysOf(request, context));
      return method.call(routes, request, context);
    };
  }
  return wrapped as S;
}
