import { type Kysely, sql } from "kysely";
import { MESSAGES_SCHEMA } from "../messages.schema-name.ts";

const TABLE = sql.id(MESSAGES_SCHEMA, "read_states");

/** Read positions (MSG-11): per (user, channel) the last message read; it never moves backwards. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table ${TABLE} (
      user_id bigint not null,
      channel_id bigint not null,
      server_id bigint not null,
      last_read_message_id bigint not null,
      updated_at timestamptz not null default now(),
      primary key (user_id, channel_id)
    )`.execute(db);
  await sql`create index read_states_user_server_idx on ${TABLE} (user_id, server_id)`.execute(db);
}
