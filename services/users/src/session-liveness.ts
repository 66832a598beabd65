import type { SessionsRepository } from "./sessions.repository.ts";

/**
 * Answers "is this access token's session still live?" for every
 * authenticated RPC: a primary-key lookup, with live answers cached in
 * process for `cacheMs`.
 *
 * Trade-off: revocations made in this process evict the cache at once; a
 * revocation made by another `users` replica is seen here after at most
 * `cacheMs` (default 2 s), in exchange for one fewer query per RPC in a busy
 * session. Ended sessions are cached without expiry: they never come back.
 */
export class SessionLiveness {
  private readonly live = new Map<string, { userId: string; until: number }>();
  private readonly ended = new Set<string>();

  constructor(
    private readonly sessions: SessionsRepository,
    private readonly cacheMs = 2_000,
    private readonly maxEntries = 10_000,
  ) {}

  /** True when the session exists, belongs to `userId`, and is neither revoked nor expired. */
  async isLive(sessionId: string, userId: string): Promise<boolean> {
    if (this.ended.has(sessionId)) return false;
    const cached = this.live.get(sessionId);
    if (cached && cached.until > Date.now()) return cached.userId === userId;
    if (!/^\d{1,19}$/.test(sessionId)) return false;
    const row = await this.sessions.state(sessionId);
    const live = !!row && !row.revoked_at && new Date(row.expires_at) > new Date();
    if (!live) {
      if (row) this.remember(this.ended, sessionId);
      return false;
    }
    if (this.live.size >= this.maxEntries) this.live.clear();
    this.live.set(sessionId, { userId: String(row.account_id), until: Date.now() + this.cacheMs });
    return String(row.account_id) === userId;
  }

  /** Marks sessions ended now (called after this process revokes them). */
  forget(sessionIds: readonly string[]): void {
    for (const id of sessionIds) {
      this.live.delete(id);
      this.remember(this.ended, id);
    }
  }

  private remember(set: Set<string>, id: string): void {
    // Bounded: clearing only costs extra lookups, never a wrong answer.
    if (set.size >= this.maxEntries) set.clear();
    set.add(id);
  }
}
