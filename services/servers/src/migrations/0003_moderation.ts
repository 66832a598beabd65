import { type Kysely, sql } from "kysely";

/** Bans (SRV-6), member timeouts (SRV-10) and the audit log (SRV-9). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("bans")
    .addColumn("server_id", "bigint", (c) => c.notNull().references("servers.id").onDelete("cascade"))
    .addColumn("user_id", "bigint", (c) => c.notNull())
    .addColumn("actor_id", "bigint", (c) => c.notNull())
    .addColumn("reason", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("bans_pk", ["server_id", "user_id"])
    .execute();

  await db.schema.alterTable("members").addColumn("timed_out_until", "timestamptz").execute();

  await db.schema
    .createTable("audit_log")
    .addColumn("id", "bigint", (c) => c.primaryKey())
    .addColumn("server_id", "bigint", (c) => c.notNull().references("servers.id").onDelete("cascade"))
    .addColumn("actor_id", "bigint", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("target_type", "text", (c) => c.notNull())
    .addColumn("target_id", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("reason", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("changes", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // Why: the log is read per server, newest first, optionally by action.
  await db.schema.createIndex("audit_log_server_idx").on("audit_log").columns(["server_id", "id"]).execute();
  await db.schema
    .createIndex("audit_log_server_action_idx")
    .on("audit_log")
    .columns(["server_id", "action", "id"])
    .execute();
}
