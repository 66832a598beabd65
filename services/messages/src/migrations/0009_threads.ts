import { type Kysely, sql } from "kysely";
import { MESSAGES_SCHEMA } from "../messages.schema-name.ts";

const TABLE = sql.id(MESSAGES_SCHEMA, "threads");
const MESSAGES = sql.id(MESSAGES_SCHEMA, "messages");

/**
 * Threads (MSG-13): at most one per starter message; its messages are rows of `messages` with
 * `thread_id` set (same channel). The thread outlives its starter message, as in Discord.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table ${TABLE} (
      id bigint primary key,
      server_id bigint not null,
      channel_id bigint not null,
      message_id bigint not null unique,
      name text not null check (char_length(name) between 1 and 100),
      creator_id bigint not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index threads_channel_idx on ${TABLE} (channel_id, id)`.execute(db);
  // A thread's history pages and its count / last message.
  await sql`create index messages_thread_id_idx on ${MESSAGES} (thread_id, id) where thread_id is not null`.execute(
    db,
  );
}
