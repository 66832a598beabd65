import { type Kysely, sql } from "kysely";

/** In-app invites (SRV-3): an invite code sent to one user, pending until they join or decline. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("in_app_invites")
    .addColumn("server_id", "bigint", (c) => c.notNull().references("servers.id").onDelete("cascade"))
    .addColumn("recipient_id", "bigint", (c) => c.notNull())
    .addColumn("code", "text", (c) => c.notNull().references("invites.code").onDelete("cascade"))
    .addColumn("inviter_id", "bigint", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    // One pending invite per server and recipient: sending again replaces it.
    .addPrimaryKeyConstraint("in_app_invites_pk", ["server_id", "recipient_id"])
    .execute();
  await db.schema
    .createIndex("in_app_invites_recipient_idx")
    .on("in_app_invites")
    .column("recipient_id")
    .execute();
  await db.schema.createIndex("in_app_invites_code_idx").on("in_app_invites").column("code").execute();
}
