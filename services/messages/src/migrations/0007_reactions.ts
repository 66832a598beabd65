import { type Kysely, sql } from "kysely";
import { MESSAGES_SCHEMA } from "../messages.schema-name.ts";

const TABLE = sql.id(MESSAGES_SCHEMA, "reactions");
const MESSAGES = sql.id(MESSAGES_SCHEMA, "messages");

/**
 * Reactions (MSG-9): one row per (message, emoji, user). The foreign key's cascade removes a message's
 * reactions with it, whichever path deletes it (delete, ban purge, channel or server deletion).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table ${TABLE} (
      message_id bigint not null references ${MESSAGES} (id) on delete cascade,
      emoji text not null check (octet_length(emoji) between 1 and 32),
      user_id bigint not null,
      created_at timestamptz not null default now(),
      primary key (message_id, emoji, user_id)
    )`.execute(db);
}
