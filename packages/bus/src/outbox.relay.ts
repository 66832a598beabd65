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

/**
 * Publishes `<schema>.outbox` rows to the bus in `seq` order and deletes them.
 *
 * - Ordering across relays: each batch runs in a transaction holding a
 *   per-schema advisory lock (`pg_try_advisory_xact_lock`), so at most one
 *   relay publishes a schema at a time; the others skip until woken again.
 *   (`FOR UPDATE SKIP LOCKED` would let two relays publish interleaved
 *   batches out of order.)
 * - At-least-once: rows are deleted in the same transaction, after publish; a
 *   crash in between leaves them to be republished (same id, so JetStream's
 *   duplicate window and the consumers' inbox drop the copy).
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
  private listener: pg.Client | undefined;
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
    this.poll = setInterval(() => this.wake(), this.pollIntervalMs);
    this.wake();
  }

  /** Stops waking and waits for the batch in progress to commit. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.poll);
    clearTimeout(this.relisten);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.draining;
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

  private async publishBatch(): Promise<BatchResult> {
    const table = sql.id(this.schema, "outbox");
    return this.db.transaction().execute(async (trx) => {
      const lock = await sql<{ locked: boolean }>`
        select pg_try_advisory_xact_lock(hashtextextended(${this.lockKey}, 0)) as locked`.execute(trx);
      if (!lock.rows[0]?.locked) return { locked: false, published: 0, full: false };
      const rows = await sql<OutboxRow>`
        select seq, id, type, payload, occurred_at, traceparent
        from ${table} order by seq limit ${this.batchSize}`.execute(trx);
      const done: string[] = [];
      let failure: unknown;
      for (const row of rows.rows) {
        try {
          await this.bus.publish(toEvent(row));
          done.push(row.seq);
        } catch (err) {
          // Stop at the first failure: publishing later rows would reorder.
          failure = err ?? new Error("publish failed");
          break;
        }
      }
      if (done.length > 0) await sql`delete from ${table} where seq = any(${done}::bigint[])`.execute(trx);
      return { locked: true, published: done.length, full: rows.rows.length === this.batchSize, failure };
    });
  }

  private async listen(): Promise<void> {
    if (!this.listenConfig || !this.running) return;
    const client = new pg.Client(this.listenConfig);
    const retry = (err: unknown): void => {
      if (this.listener !== client) return;
      this.listener = undefined;
      this.logger.warn(
        { err, schema: this.schema },
        "outbox LISTEN connection lost; polling until it is back",
      );
      void client.end().catch(() => undefined);
      if (this.running) this.relisten = setTimeout(() => void this.listen(), this.pollIntervalMs);
    };
    client.on("notification", () => this.wake());
    client.on("error", retry);
    client.on("end", () => retry(new Error("connection ended")));
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(outboxChannel(this.schema))}`);
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
