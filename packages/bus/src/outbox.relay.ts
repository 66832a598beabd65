import type { Logger } from "@beep/observability";
import { type Kysely, sql } from "kysely";
import pg from "pg";
import type { Bus, BusEvent } from "./bus.ts";
import { assertSchemaName, outboxChannel } from "./outbox.migrations.ts";

/** Constructor options of {@link OutboxRelay}. */
export interface OutboxRelayOptions<DB> {
  /** Database holding `<schema>.outbox`. */
  db: Kysely<DB>;
  /** Schema of the owning service. */
  schema: string;
  /** Where events go. */
  bus: Bus;
  /** Logger for publish failures. */
  logger: Logger;
  /** Fallback poll period when no NOTIFY arrives (lost listener, no `listen`); default 1000 ms. */
  pollIntervalMs?: number;
  /** Rows published per transaction; default 100. */
  batchSize?: number;
  /** Connection for LISTEN (a URL or pg client config); without it the relay only polls. */
  listen?: string | pg.ClientConfig;
}

interface OutboxRow {
  seq: string;
  id: string;
  type: string;
  payload: unknown;
  occurred_at: Date;
  traceparent: string | null;
}

interface BatchResult {
  locked: boolean;
  published: number;
  full: boolean;
  failure?: unknown;
}

const NOT_LOCKED: BatchResult = { locked: false, published: 0, full: false };

/**
 * NOTIFY payload a stopping leader sends after releasing the lock (the outbox
 * trigger sends ''), so a follower takes over at once instead of at its next poll.
 */
const LEADER_RELEASED = "leader-released";

/**
 * Publishes `<schema>.outbox` rows to the bus in `seq` order and deletes them.
 *
 * - Ordering across relays: at most one relay publishes a schema at a time.
 *   With `listen`, the leader is the relay whose LISTEN connection holds the
 *   per-schema session advisory lock (`pg_try_advisory_lock`); it runs each
 *   batch on that connection as two statements (SELECT, then DELETE of the
 *   published seqs), so a batch costs 2 round trips instead of 5. Followers
 *   try for the lock on their poll timer only (not on every NOTIFY), or at
 *   once when a stopping leader says it released it. Without `listen`, or
 *   while that connection is down, each batch is a transaction holding
 *   `pg_try_advisory_xact_lock` on the same key, which conflicts with the
 *   session lock, so both modes exclude each other. (`FOR UPDATE SKIP LOCKED`
 *   would let two relays publish interleaved batches out of order.)
 * - At-least-once: rows are deleted after publish; a crash or lost connection
 *   in between leaves them to be republished (same id, so JetStream's
 *   duplicate window and the consumers' inbox drop the copy). PostgreSQL
 *   releases the lock with the session, so a leader that loses its connection
 *   stops publishing its batch and another relay takes over at its next poll.
 * - Latency: woken by LISTEN/NOTIFY (sent by the table's trigger on commit),
 *   with a poll as fallback.
 */
export class OutboxRelay<DB> {
  private readonly db: Kysely<DB>;
  private readonly schema: string;
  private readonly bus: Bus;
  private readonly logger: Logger;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly listenConfig: string | pg.ClientConfig | undefined;
  private readonly lockKey: string;
  private running = false;
  private poll: NodeJS.Timeout | undefined;
  /** The dedicated connection: LISTENs, and runs the leader's batches once `listening`. */
  private listener: pg.Client | undefined;
  private listening = false;
  /** Whether `listener`'s session holds the schema's advisory lock. */
  private leading = false;
  /** A follower tries for the lock only when this is set (poll tick, reconnect, flush, handover). */
  private lockAttemptDue = false;
  private relisten: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private wakeAgain = false;

  constructor(options: OutboxRelayOptions<DB>) {
    assertSchemaName(options.schema);
    this.db = options.db;
    this.schema = options.schema;
    this.bus = options.bus;
    this.logger = options.logger;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.batchSize = options.batchSize ?? 100;
    this.listenConfig = options.listen;
    this.lockKey = `beep.outbox-relay:${options.schema}`;
  }

  /** Starts listening and polling, and publishes whatever is already waiting. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.listen();
    this.poll = setInterval(() => {
      this.lockAttemptDue = true;
      this.wake();
    }, this.pollIntervalMs);
    this.wake();
  }

  /**
   * Stops waking, waits for the batch in progress, then gives up leadership
   * (unlock, NOTIFY the handover, close the connection).
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.poll);
    clearTimeout(this.relisten);
    while (this.draining) await this.draining;
    const listener = this.listener;
    const leading = this.leading;
    this.listener = undefined;
    this.listening = false;
    this.leading = false;
    if (listener && leading) {
      // One statement: the NOTIFY goes out when it commits, after the unlock took effect.
      await listener
        .query("select pg_advisory_unlock(hashtextextended($1, 0)), pg_notify($2, $3)", [
          this.lockKey,
          outboxChannel(this.schema),
          LEADER_RELEASED,
        ])
        .catch(() => undefined);
    }
    await listener?.end().catch(() => undefined);
  }

  /** Age in seconds of the oldest unpublished row (0 when empty), for a lag gauge. */
  async lagSeconds(): Promise<number> {
    const result = await sql<{ lag: number | string }>`
      select coalesce(extract(epoch from now() - min(occurred_at)), 0)::float8 as lag
      from ${sql.id(this.schema, "outbox")}`.execute(this.db);
    return Math.max(0, Number(result.rows[0]?.lag ?? 0));
  }

  /** Publishes until the outbox is empty (or another relay holds it); for tests and shutdown hooks. */
  async flush(): Promise<void> {
    this.lockAttemptDue = true;
    this.kick();
    while (this.draining) await this.draining;
  }

  private wake(): void {
    if (this.running) this.kick();
  }

  private kick(): void {
    if (this.draining) {
      // A commit may have landed after the running batch's SELECT: go round once more.
      this.wakeAgain = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    do {
      this.wakeAgain = false;
      for (;;) {
        let batch: BatchResult;
        try {
          batch = await this.publishBatch();
        } catch (err) {
          this.logger.error({ err, schema: this.schema }, "outbox relay batch failed; will retry");
          return;
        }
        if (batch.failure !== undefined) {
          this.logger.error(
            { err: batch.failure, schema: this.schema, published: batch.published },
            "outbox publish failed; will retry",
          );
          return;
        }
        if (!batch.locked || !batch.full || !this.running) break;
      }
    } while (this.wakeAgain && this.running);
  }

  private publishBatch(): Promise<BatchResult> {
    const listener = this.listening ? this.listener : undefined;
    return listener ? this.publishBatchOn(listener) : this.publishBatchInTransaction();
  }

  /**
   * Leader path: SELECT and DELETE on the dedicated connection, no transaction
   * (the session lock outlives statements), so 2 round trips per batch.
   */
  private async publishBatchOn(client: pg.Client): Promise<BatchResult> {
    if (!this.leading) {
      // Followers ask at most once per poll tick: a NOTIFY burst must not become a burst of lock attempts.
      if (!this.lockAttemptDue) return NOT_LOCKED;
      this.lockAttemptDue = false;
      const lock = await client.query<{ locked: boolean }>(
        "select pg_try_advisory_lock(hashtextextended($1, 0)) as locked",
        [this.lockKey],
      );
      // A lock taken on a connection that has since been dropped died with its session.
      if (!lock.rows[0]?.locked || this.listener !== client) return NOT_LOCKED;
      this.leading = true;
    }
    const table = `${client.escapeIdentifier(this.schema)}.outbox`;
    const rows = await client.query<OutboxRow>(
      `select seq, id, type, payload, occurred_at, traceparent from ${table} order by seq limit $1`,
      [this.batchSize],
    );
    // Once the connection is gone the lock is too and another relay may already be publishing these rows.
    const { done, failure } = await this.publishInOrder(rows.rows, () => this.listener === client);
    // A lost connection took the lock with it: leave the rows to whoever leads now.
    if (done.length > 0 && this.listener === client) {
      await client.query(`delete from ${table} where seq = any($1::bigint[])`, [done]);
    }
    return { locked: true, published: done.length, full: rows.rows.length === this.batchSize, failure };
  }

  /** Poll-only path (no `listen`, or its connection is down): one transaction holding the xact lock. */
  private async publishBatchInTransaction(): Promise<BatchResult> {
    const table = sql.id(this.schema, "outbox");
    return this.db.transaction().execute(async (trx) => {
      const lock = await sql<{ locked: boolean }>`
        select pg_try_advisory_xact_lock(hashtextextended(${this.lockKey}, 0)) as locked`.execute(trx);
      if (!lock.rows[0]?.locked) return NOT_LOCKED;
      const rows = await sql<OutboxRow>`
        select seq, id, type, payload, occurred_at, traceparent
        from ${table} order by seq limit ${this.batchSize}`.execute(trx);
      const { done, failure } = await this.publishInOrder(rows.rows, () => true);
      if (done.length > 0) await sql`delete from ${table} where seq = any(${done}::bigint[])`.execute(trx);
      return { locked: true, published: done.length, full: rows.rows.length === this.batchSize, failure };
    });
  }

  private async publishInOrder(
    rows: OutboxRow[],
    stillLeading: () => boolean,
  ): Promise<{ done: string[]; failure: unknown }> {
    const done: string[] = [];
    for (const row of rows) {
      if (!stillLeading()) return { done, failure: new Error("outbox relay lost its connection mid-batch") };
      try {
        await this.bus.publish(toEvent(row));
        done.push(row.seq);
      } catch (err) {
        // Stop at the first failure: publishing later rows would reorder.
        return { done, failure: err ?? new Error("publish failed") };
      }
    }
    return { done, failure: undefined };
  }

  private async listen(): Promise<void> {
    if (!this.listenConfig || !this.running) return;
    const client = new pg.Client(this.listenConfig);
    const retry = (err: unknown): void => {
      if (this.listener !== client) return;
      this.listener = undefined;
      this.listening = false;
      this.leading = false;
      this.logger.warn(
        { err, schema: this.schema },
        "outbox LISTEN connection lost; polling until it is back",
      );
      void client.end().catch(() => undefined);
      if (this.running) this.relisten = setTimeout(() => void this.listen(), this.pollIntervalMs);
    };
    client.on("notification", (msg) => {
      if (msg.payload === LEADER_RELEASED) this.lockAttemptDue = true;
      this.wake();
    });
    client.on("error", retry);
    client.on("end", () => retry(new Error("connection ended")));
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(outboxChannel(this.schema))}`);
      if (this.listener !== client) return;
      this.listening = true;
      this.lockAttemptDue = true;
      // Rows committed before LISTEN took effect sent their NOTIFY to nobody.
      this.wake();
    } catch (err) {
      retry(err);
    }
  }
}

function toEvent(row: OutboxRow): BusEvent {
  const event: BusEvent = {
    id: row.id,
    type: row.type,
    occurredAt: row.occurred_at.toISOString(),
    payload: row.payload,
  };
  if (row.traceparent !== null) event.traceparent = row.traceparent;
  return event;
}
