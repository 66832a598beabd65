import { BeepError } from "@beep/errors";
import type { RateLimiter, RateLimitStore } from "@beep/limits";

/**
 * SRV-8: invites (links and in-app) one user may create in one server per hour, counted on the shared
 * rate-limit store (redis when configured, so every servers process shares the budget). A refused
 * attempt still counts, like every limiter of the store.
 */
export class InviteRateLimit {
  private readonly limiter: RateLimiter;

  constructor(store: RateLimitStore, perHour: number) {
    this.limiter = store.limiter({ name: "servers_invites", points: perHour, windowSeconds: 3600 });
  }

  /** Counts one invite of the user in the server; RATE_LIMITED with retryAfterMs when over the budget. */
  async admit(serverId: string, userId: string): Promise<void> {
    const result = await this.limiter.consume(`${serverId}:${userId}`);
    if (!result.allowed) {
      throw new BeepError("RATE_LIMITED", "Too many invites created in this server; try again later", {
        retryAfterMs: result.retryAfterMs,
      });
    }
  }
}
