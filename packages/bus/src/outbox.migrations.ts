import { type Migration, sql } from "kysely";

/** Throws unless `schema` is a plain lower-case identifier (it is interpolated into DDL and channel names). */
export function assertSchemaName(schema: string): void {
  if (!/^[a-z_][a-z0-9_]{0,50}$/.test(schema)) {
    throw new Error(`invalid schema name ${JSON.stringify(schema)}: use lower-case letters, digits and "_"`);
  }
}

/** LISTEN/NOTIFY channel the outbox trigger signals on commit, e.g. `messages.outbox`. */
export function outboxChannel(schema: string): string {
  return `${schema}.outbox`;
}

/**
 * Creates `<schema>.outbox`: events written in the same transaction as the
 * state change, published by the relay in `seq` order, then deleted. A
 * statement-level trigger sends NOTIFY, which PostgreSQL delivers only on
 * commit, so the relay wakes exactly when new rows become visible.
 */
export function outboxMigration(schema: string): Migration {
  assertSchemaName(schema);
  return {
    async up(db) {
      await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
      await sql`
        create table ${sql.id(schema, "outbox")} (
          seq bigserial primary key,
          id text not null unique,
          type text not null,
          payload jsonb not null,
          occurred_at timestamptz not null default clock_timestamp(),
          traceparent text
        )`.execute(db);
      // The channel is computed from TG_TABLE_SCHEMA so no name is spliced into the function body.
      await sql`
        create function ${sql.id(schema, "outbox_notify")}() returns trigger language plpgsql as $$
        begin
          perform pg_notify(tg_table_schema || '.outbox', '');
          return null;
        end $$`.execute(db);
      await sql`
        create trigger outbox_notify after insert on ${sql.id(schema, "outbox")}
        for each statement execute function ${sql.id(schema, "outbox_notify")}()`.execute(db);
    },
  };
}

/** Creates `<schema>.inbox(consumer, event_id, processed_at)`: the ids each consumer has already applied. */
export function inboxMigration(schema: string): Migration {
  assertSchemaName(schema);
  return {
    async up(db) {
      await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
      await sql`
        create table ${sql.id(schema, "inbox")} (
          consumer text not null,
          event_id text not null,
          processed_at timestamptz not null default now(),
          primary key (consumer, event_id)
        )`.execute(db);
      // Pruning deletes by age; keep it an index scan.
      await sql`create index inbox_processed_at on ${sql.id(schema, "inbox")} (processed_at)`.execute(db);
    },
  };
}
