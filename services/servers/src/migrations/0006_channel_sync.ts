import type { Kysely } from "kysely";

/**
 * Folder-synced overwrites (Discord's sync model): a channel in a folder whose overwrites are a copy of
 * the folder's, kept equal while this flag is true.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("channels")
    .addColumn("permissions_synced", "boolean", (c) => c.notNull().defaultTo(false))
    .execute();
}
