import { newId } from "@beep/ids";
import { sql, type Transaction } from "kysely";
import type { BusEvent } from "./bus.ts";
import { assertSchemaName } from "./outbox.migrations.ts";
import { assertEventType } from "./subject-pattern.ts";

/** An event to record in the outbox; the id and time are assigned on write. */
export interface OutboxEventInput<P = unknown> {
  /** Dotted event type, e.g. `message.created`. */
  type: string;
  /** JSON-serialisable payload. */
  payload: P;
  /** W3C `traceparent` of the current span, carried to consumers. */
  traceparent?: string;
}

/** An event as a row of `<schema>.outbox`: its id (from `newId()`), type, payload as JSON text. */
export interface OutboxRow {
  id: string;
  type: string;
  payload: string;
  traceparent: string | null;
}

/**
 * The outbox rows of `events`, in order, each checked (dotted type, a payload) and given its id: for
 * {@link writeOutbox}, and for a statement that inserts its events itself (in a data-modifying CTE, so
 * the write and its events stay one round trip). Insert them into `<schema>.outbox` in this order: the
 * relay publishes by `seq`.
 */
export function outboxRows(events: ReadonlyArray<OutboxEventInput>): OutboxRow[] {
  return events.map((e) => {
    assertEventType(e.type);
    if (e.payload === undefined) throw new Error(`event ${e.type} has no payload`);
    return {
      id: newId(),
      type: e.type,
      payload: JSON.stringify(e.payload),
      traceparent: e.traceparent ?? null,
    };
  });
}

interface InsertedRow {
  id: string;
  occurred_at: Date;
}

/**
 * Records events in `<schema>.outbox` inside the caller's transaction, so they
 * are published if and only if it commits. Returns the events as they will be
 * published (ids from `newId()`).
 */
export async function writeOutbox<DB>(
  trx: Transaction<DB>,
  schema: string,
  events: ReadonlyArray<OutboxEventInput>,
): Promise<BusEvent[]> {
  assertSchemaName(schema);
  // Writing outside a transaction would publish state that may never commit.
  if (!trx.isTransaction) throw new Error(`writeOutbox(${schema}) must run inside a transaction`);
  if (events.length === 0) return [];
  const rows = outboxRows(events);
  const values = sql.join(rows.map((r) => sql`(${r.id}, ${r.type}, ${r.payload}::jsonb, ${r.traceparent})`));
  const result = await sql<InsertedRow>`
    insert into ${sql.id(schema, "outbox")} (id, type, payload, traceparent)
    values ${values}
    returning id, occurred_at`.execute(trx);
  const times = new Map(result.rows.map((r) => [r.id, r.occurred_at]));
  return events.map((e, i) => {
    const id = rows[i]!.id;
    const event: BusEvent = {
      id,
      type: e.type,
      occurredAt: times.get(id)!.toISOString(),
      payload: e.payload,
    };
    if (e.traceparent !== undefined) event.traceparent = e.traceparent;
    return event;
  });
}
