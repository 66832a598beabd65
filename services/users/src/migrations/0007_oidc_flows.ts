import { type Kysely, sql } from "kysely";

/**
 * Server-side state of OpenID Connect sign-ins (AUTH-5).
 *
 * `oidc_flows`: one row per started sign-in, keyed by the SHA-256 of the
 * random value in the browser's state cookie; holds `state`, `nonce` and the
 * PKCE `code_verifier`, expires after 10 minutes and is deleted on first use.
 *
 * `oidc_link_tokens`: an OIDC identity waiting to be linked to the existing
 * account with the same email once its password is proven; keyed by the
 * SHA-256 of the link token, short-lived, with a failed-attempt counter.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("oidc_flows")
    .addColumn("cookie_hash", "text", (c) => c.primaryKey())
    .addColumn("provider", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("nonce", "text", (c) => c.notNull())
    .addColumn("code_verifier", "text", (c) => c.notNull())
    .addColumn("redirect_after", "text", (c) => c.notNull())
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("oidc_flows_expires_idx").on("oidc_flows").column("expires_at").execute();
  await db.schema
    .createTable("oidc_link_tokens")
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("provider", "text", (c) => c.notNull())
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("account_id", "bigint", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("failed_attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex("oidc_link_tokens_expires_idx")
    .on("oidc_link_tokens")
    .column("expires_at")
    .execute();
}
