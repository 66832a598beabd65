import { type Kysely, sql } from "kysely";

/**
 * Language, phone and e-mail verification on accounts; one-time codes for
 * e-mail verification and passwordless sign-in, stored hashed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("accounts")
    .addColumn("language", "text", (c) => c.notNull().defaultTo("en"))
    .addColumn("email_verified_at", "timestamptz")
    .addColumn("phone", "text", (c) => c.unique())
    .execute();

  await db.schema
    .createTable("one_time_codes")
    .addColumn("id", "bigint", (c) => c.primaryKey())
    .addColumn("account_id", "bigint", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    // `verify_email` or `sign_in`.
    .addColumn("purpose", "text", (c) => c.notNull())
    // Where it was sent: the email address or phone number at the time.
    .addColumn("destination", "text", (c) => c.notNull())
    .addColumn("code_hash", "text", (c) => c.notNull())
    .addColumn("link_token_hash", "text", (c) => c.unique())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("used_at", "timestamptz")
    .execute();
  await db.schema
    .createIndex("one_time_codes_account_purpose_idx")
    .on("one_time_codes")
    .columns(["account_id", "purpose", "created_at"])
    .execute();
}
