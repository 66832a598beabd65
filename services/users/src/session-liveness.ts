import type { SessionStateRow, SessionsRepository } from "./sessions.repository.ts";

/** Batching of the session lookups (tests shrink it). */
export interface SessionLookupBatching {
  /** Sessions looked up by one query at most. */
  maxBatch: number;
  /** Queries in flight at once; lookups arriving meanwhile wait and go together in the next one. */
  maxInFlight: number;
}

interface QueuedLookup {
  sessionId: string;
  resolve(row: SessionStateRow | undefined): void;
  reject(error: unknown): void;
}

/**
 * Answers "is this access token's session still live?" for every
 * authenticated RPC: a primary-key lookup, with live answers cached in
 * process for `cacheMs`.
 *
 * Trade-off: revocations made in this process evict the cache at once; a
 * revocation made by another `users` replica is seen here after at most
 * `cacheMs` (default 2 s), in exchange for one fewer query per RPC in a busy
 * session. Ended sessions are cached without expiry: they never come back.
 *
 * Lookups are batched like sends (group commit): while queries are in flight, new lookups queue and
 * go together in one `id in (…)` query, and concurrent lookups of one session share it. Why: when a
 * gateway restarts, every client reconnects at once and each socket checks its session; one query per
 * socket would queue thousands on the pool past their deadlines (sockets closed 4500), where a few
 * batched queries answer them all.
 */
export class SessionLiveness {
  private readonly live = new Map<string, { userId: string; until: number }>();
  private readonly ended = new Set<string>();
  /** Lookups queued or in flight, by session id: a second caller joins the first. */
  private readonly lookups = new Map<string, Promise<SessionStateRow | undefined>>();
  private readonly queue: QueuedLookup[] = [];
  private inFlight = 0;
  private scheduled = false;
  /** Queries made, and sessions they looked up (tests and metrics). */
  readonly stats = { queries: 0, sessions: 0 };

  constructor(
    private readonly sessions: SessionsRepository,
    private readonly cacheMs = 2_000,
    private readonly maxEntries = 10_000,
    private readonly batching: SessionLookupBatching = { maxBatch: 1_000, maxInFlight: 2 },
  ) {}

  /** True when the session exists, belongs to `userId`, and is neither revoked nor expired. */
  async isLive(sessionId: string, userId: string): Promise<boolean> {
    if (this.ended.has(sessionId)) return false;
    const cached = this.live.get(sessionId);
    if (cached && cached.until > Date.now()) return cached.userId === userId;
    if (!/^\d{1,19}$/.test(sessionId)) return false;
    const row = await this.lookup(sessionId);
    const live = !!row && !row.revoked_at && new Date(row.expires_at) > new Date();
    if (!live) {
      if (row) this.remember(this.ended, sessionId);
      return false;
    }
    // A revocation in this process while the lookup was in flight wins over its (older) answer.
    if (this.ended.has(sessionId)) return false;
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

  private lookup(sessionId: string): Promise<SessionStateRow | undefined> {
    const joined = this.lookups.get(sessionId);
    if (joined) return joined;
    const lookup = new Promise<SessionStateRow | undefined>((resolve, reject) => {
      this.queue.push({ sessionId, resolve, reject });
    });
    this.lookups.set(sessionId, lookup);
    this.schedule();
    return lookup;
  }

  private schedule(): void {
    const { maxBatch, maxInFlight } = this.batching;
    if (this.scheduled || this.inFlight >= maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    // Why setImmediate: lookups made in the same turn (a burst of connections) join one query.
    setImmediate(() => {
      this.scheduled = false;
      if (this.inFlight >= maxInFlight || this.queue.length === 0) return;
      const batch = this.queue.splice(0, maxBatch);
      this.inFlight += 1;
      void this.query(batch).finally(() => {
        this.inFlight -= 1;
        this.schedule();
      });
      this.schedule();
    });
  }

  private async query(batch: QueuedLookup[]): Promise<void> {
    try {
      const rows = await this.sessions.states(batch.map((queued) => queued.sessionId));
      this.stats.queries += 1;
      this.stats.sessions += batch.length;
      const byId = new Map(rows.map((row) => [String(row.id), row]));
      for (const queued of batch) queued.resolve(byId.get(queued.sessionId));
    } catch (error) {
      for (const queued of batch) queued.reject(error);
    } finally {
      for (const queued of batch) this.lookups.delete(queued.sessionId);
    }
  }

  private remember(set: Set<string>, id: string): void {
    // Bounded: clearing only costs extra lookups, never a wrong answer.
    if (set.size >= this.maxEntries) set.clear();
    set.add(id);
  }
}
