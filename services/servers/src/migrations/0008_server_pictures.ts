import type { Kysely } from "kysely";

/** A server's picture and banner (SRV-1): blob store keys, null when none. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("servers")
    .addColumn("picture_key", "text")
    .addColumn("banner_key", "text")
    .execute();
}
