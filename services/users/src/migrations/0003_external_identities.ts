import { type Kysely, sql } from "kysely";

/**
 * Links from outside identities (an OIDC provider's `sub`, an LDAP DN) to a
 * Beep account: one row per provider and subject, so the same person signing
 * in again lands on the same account.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("external_identities")
    .addColumn("provider", "text", (c) => c.notNull())
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("account_id", "bigint", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("last_used_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("external_identities_pk", ["provider", "subject"])
    .execute();
  await db.schema
    .createIndex("external_identities_account_idx")
    .on("external_identities")
    .column("account_id")
    .execute();
}
