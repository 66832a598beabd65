import { type Kysely, sql } from "kysely";
import { MESSAGES_SCHEMA } from "../messages.schema-name.ts";

// Raw SQL is not rewritten by the migrator's withSchema: qualify the table.
const TABLE = sql.id(MESSAGES_SCHEMA, "messages");

/** Messages of text channels (MSG-1 … MSG-6). Ids are snowflakes: time-ordered, and per channel commit-ordered. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table ${TABLE} (
      id bigint primary key,
      server_id bigint not null,
      channel_id bigint not null,
      thread_id bigint,
      author_id bigint not null,
      content text not null check (char_length(content) between 1 and 4000),
      nonce text,
      created_at timestamptz not null default now(),
      edited_at timestamptz,
      reply_to_id bigint,
      pinned_at timestamptz,
      pinned_by bigint,
      mentions jsonb not null default '{"userIds":[],"roleIds":[],"channelIds":[],"everyone":false}',
      embeds jsonb not null default '[]'
    )`.execute(db);
  // Why: a retried send (same author, channel and nonce) must find the first message, even under races.
  await sql`
    create unique index messages_nonce_uq on ${TABLE} (channel_id, author_id, nonce)
    where nonce is not null`.execute(db);
  // History pages and the per-channel "latest id" read of the write path.
  await sql`create index messages_channel_id_idx on ${TABLE} (channel_id, id)`.execute(db);
  // Server deletion and ban purges.
  await sql`create index messages_server_author_idx on ${TABLE} (server_id, author_id, id)`.execute(db);
  await sql`create index messages_pins_idx on ${TABLE} (channel_id, pinned_at) where pinned_at is not null`.execute(
    db,
  );
}
