import { type Kysely, sql } from "kysely";

/**
 * Profile parts owned by the account feature: custom status and the blob keys
 * of the picture and banner. A table of its own (one row per account, created
 * on first change) rather than columns on `accounts`, so deleting the account
 * cascades to it and other features' migrations never touch it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("profiles")
    .addColumn("account_id", "bigint", (c) => c.primaryKey().references("accounts.id").onDelete("cascade"))
    .addColumn("status_text", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("status_emoji", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("status_expires_at", "timestamptz")
    .addColumn("status_set", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("picture_key", "text")
    .addColumn("banner_key", "text")
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}
