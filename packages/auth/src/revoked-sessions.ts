/**
 * Sessions known to be revoked, fed by `session.revoked` events, so a service
 * that verifies access tokens locally also refuses a signed-out session's
 * token before it expires. Entries are kept for `retainMs` (at least the
 * access-token lifetime): after that the token is dead anyway.
 *
 * The feed is the bus fan-out (at-most-once, from subscription on), so this
 * narrows the window rather than closing it; `users` itself checks sessions
 * authoritatively.
 */
export class RevokedSessions {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly retainMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Remembers a revoked session. */
  record(sessionId: string): void {
    this.until.set(sessionId, this.now() + this.retainMs);
    // Sweep now and then instead of on a timer: cost stays proportional to revocations.
    if (this.until.size % 256 === 0) this.sweep();
  }

  /** True while the session is known to be revoked. */
  isRevoked(sessionId: string): boolean {
    const until = this.until.get(sessionId);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.until.delete(sessionId);
    return false;
  }

  /** Sessions remembered (for metrics and tests). */
  get size(): number {
    return this.until.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, until] of this.until) if (until <= now) this.until.delete(id);
  }
}
