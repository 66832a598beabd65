import { audit, errorFields, type Logger } from "@beep/observability";
import type { SigningKeyRepository } from "./signing-key.repository.ts";
import { TokenIssuer } from "./token-issuer.ts";

/** The `auth.signingKey…` settings plus the access token lifetime. */
export interface SigningKeyRotationSettings {
  signingKeyRotationDays: number;
  signingKeyReloadSeconds: number;
  signingKeyRetireMarginSeconds: number;
  accessTokenTtlSeconds: number;
}

const DAY_MS = 86_400_000;

/**
 * Scheduled rotation of the token signing keys (AUTH-2, ASVS V6/V9). Every `users` process runs one:
 * each tick creates a new key when the newest is older than the rotation period (the advisory lock
 * in the repository lets only one process do it), retires keys whose every token has expired, and
 * reloads, so all processes sign with the newest active key within one reload period.
 *
 * A key stops signing when its successor is created, but other processes may still sign with it
 * until their next reload; so it is retired (and leaves the JWKS) only after
 * successor created + reload period + access token TTL + margin.
 */
export class SigningKeyRotation {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly keys: SigningKeyRepository,
    private readonly tokens: TokenIssuer,
    private readonly settings: SigningKeyRotationSettings,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** One rotation check: rotate when due, retire expired keys, reload. */
  async tick(): Promise<void> {
    const now = this.now();
    const notBefore = new Date(now.getTime() - this.settings.signingKeyRotationDays * DAY_MS);
    if (await this.tokens.rotate(notBefore, now)) this.audited("scheduled");
    await this.retireExpired(now);
    await this.tokens.load();
  }

  /** Creates a new key now, whatever the schedule, and reloads. */
  async forceRotate(): Promise<void> {
    await this.tokens.rotate(undefined, this.now());
    this.audited("forced");
    await this.tick();
  }

  /** Ticks every reload period until {@link stop}; failures are logged and retried at the next tick. */
  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.tick()
        .catch((error) => this.logger.error({ err: errorFields(error) }, "signing key rotation failed"))
        .finally(() => {
          this.running = undefined;
        });
    }, this.settings.signingKeyReloadSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async retireExpired(now: Date): Promise<void> {
    const { accessTokenTtlSeconds, signingKeyReloadSeconds, signingKeyRetireMarginSeconds } = this.settings;
    const graceMs = (accessTokenTtlSeconds + signingKeyReloadSeconds + signingKeyRetireMarginSeconds) * 1000;
    const active = await this.keys.listActive();
    // Newest first: key i stopped signing when key i-1 was created.
    const expired = active
      .slice(1)
      .filter((_, i) => (active[i]?.createdAt.getTime() ?? now.getTime()) + graceMs <= now.getTime())
      .map((key) => key.kid);
    await this.keys.retire(expired, now);
    if (expired.length > 0) {
      audit(this.logger, { action: "SIGNING_KEY_RETIRED", outcome: "success", details: { kids: expired } });
    }
  }

  private audited(trigger: "scheduled" | "forced"): void {
    audit(this.logger, { action: "SIGNING_KEY_ROTATED", outcome: "success", details: { trigger } });
  }
}

/** `beep keys rotate`: creates a new signing key; running processes sign with it from their next reload. */
export async function forceSigningKeyRotation(
  keys: SigningKeyRepository,
  settings: { issuer: string; audience: string; accessTokenTtlSeconds: number },
): Promise<string> {
  const tokens = new TokenIssuer(keys, settings);
  await tokens.rotate();
  await tokens.load();
  return tokens.currentKid() ?? "";
}
