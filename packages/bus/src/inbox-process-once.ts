import { type Kysely, sql, type Transaction } from "kysely";
import type { BusEvent } from "./bus.ts";
import { assertSchemaName } from "./outbox.migrations.ts";

/**
 * Runs `fn` and records `(consumer, event.id)` in `<schema>.inbox` in one
 * transaction; a duplicate delivery is skipped. Resolves `true` if `fn` ran,
 * `false` for a duplicate. If `fn` throws, nothing is recorded and the error
 * propagates (so the bus redelivers). Two concurrent deliveries of one event
 * serialise on the inbox key: the second waits, then skips.
 */
export async function processOnce<DB>(
  db: Kysely<DB>,
  schema: string,
  consumer: string,
  event: Pick<BusEvent, "id">,
  fn: (trx: Transaction<DB>) => Promise<void>,
): Promise<boolean> {
  assertSchemaName(schema);
  return db.transaction().execute(async (trx) => {
    const inserted = await sql`
      insert into ${sql.id(schema, "inbox")} (consumer, event_id) values (${consumer}, ${event.id})
      on conflict do nothing
      returning event_id`.execute(trx);
    if (inserted.rows.length === 0) return false;
    await fn(trx);
    return true;
  });
}

/** Deletes inbox rows older than `olderThanMs`; keep it longer than the bus retention. Returns the count. */
export async function pruneInbox<DB>(db: Kysely<DB>, schema: string, olderThanMs: number): Promise<number> {
  assertSchemaName(schema);
  const result = await sql`
    delete from ${sql.id(schema, "inbox")}
    where processed_at < now() - make_interval(secs => ${olderThanMs / 1000})`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}
