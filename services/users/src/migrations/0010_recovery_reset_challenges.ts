import { type Kysely, sql } from "kysely";

/**
 * Forgot password with 2FA on (AUTH-12): once the mailed reset code is
 * proven, the reset waits here for the second factor. One row per pending
 * reset, keyed by the SHA-256 of its challenge token; holds the argon2 hash of
 * the new password (never the password), expires quickly, counts wrong codes
 * and is single use. Separate from `sign_in_challenges`, so a reset challenge
 * can never complete a sign-in and a sign-in challenge can never reset.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("password_reset_challenges")
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("account_id", "bigint", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("password_hash", "text", (c) => c.notNull())
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("failed_attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("used_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex("password_reset_challenges_account_idx")
    .on("password_reset_challenges")
    .column("account_id")
    .execute();
}
