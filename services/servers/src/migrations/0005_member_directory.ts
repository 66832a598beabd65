import { type Kysely, sql } from "kysely";

/**
 * SRV-7: the usernames and display names of users, kept from the users service's `user.*` events, so the
 * member list can show and filter members by name without a call per member (or per page) to users.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("user_directory")
    .addColumn("user_id", "bigint", (c) => c.primaryKey())
    .addColumn("username", "text", (c) => c.notNull())
    .addColumn("display_name", "text", (c) => c.notNull().defaultTo(""))
    // The users service's updatedAt: an older event never overwrites a newer one (events may come late).
    .addColumn("updated_at", "timestamptz", (c) => c.notNull())
    .execute();
  // Why: the member list's prefix filter (`lower(username) like 'ab%'`).
  await sql`create index user_directory_username_idx on servers.user_directory (lower(username) text_pattern_ops)`.execute(
    db,
  );
}
