import { type Kysely, sql } from "kysely";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import type { MessagesTables } from "./messages.tables.ts";

type Db = Kysely<MessagesTables>;

const TABLE = sql.id(MESSAGES_SCHEMA, "threads");
const MESSAGES = sql.id(MESSAGES_SCHEMA, "messages");

/** A thread row. */
export interface ThreadRow {
  id: string;
  server_id: string;
  channel_id: string;
  message_id: string;
  name: string;
  creator_id: string;
  created_at: Date;
}

/** A thread with its activity, counted when read. */
export interface ThreadWithActivity extends ThreadRow {
  message_count: number;
  last_message_at: Date | null;
}

const COLUMNS = sql.raw(
  "t.id::text as id, t.server_id::text as server_id, t.channel_id::text as channel_id, t.message_id::text as message_id, t.name, t.creator_id::text as creator_id, t.created_at",
);

// Why lateral per thread: one index range scan of (thread_id, id) each, in the same statement.
const ACTIVITY = sql`
  cross join lateral (
    select count(*) as message_count, max(m.created_at) as last_message_at, max(m.id) as last_id
    from ${MESSAGES} m where m.thread_id = t.id
  ) a`;

type ActivityRow = ThreadRow & { message_count: string; last_message_at: Date | null };
const withActivity = (row: ActivityRow): ThreadWithActivity => ({
  ...row,
  message_count: Number(row.message_count),
});

/** SQL of threads (MSG-13). */
export class ThreadsRepository {
  /** Inserts the thread unless its message already has one; undefined then. */
  async insert(db: Db, row: ThreadRow): Promise<ThreadRow | undefined> {
    const result = await sql<ThreadRow>`
      insert into ${TABLE} as t (id, server_id, channel_id, message_id, name, creator_id, created_at)
      values (${row.id}::bigint, ${row.server_id}::bigint, ${row.channel_id}::bigint, ${row.message_id}::bigint,
        ${row.name}, ${row.creator_id}::bigint, ${row.created_at})
      on conflict (message_id) do nothing
      returning ${COLUMNS}`.execute(db);
    return result.rows[0];
  }

  /** Renames the thread; undefined when it is gone. */
  async rename(db: Db, id: string, name: string): Promise<ThreadRow | undefined> {
    const result = await sql<ThreadRow>`
      update ${TABLE} as t set name = ${name} where t.id = ${id}::bigint returning ${COLUMNS}`.execute(db);
    return result.rows[0];
  }

  async find(db: Db, id: string): Promise<ThreadRow | undefined> {
    const result = await sql<ThreadRow>`select ${COLUMNS} from ${TABLE} t where t.id = ${id}::bigint`.execute(
      db,
    );
    return result.rows[0];
  }

  /** Threads with their activity by id. */
  async withActivity(db: Db, ids: readonly string[]): Promise<ThreadWithActivity[]> {
    if (ids.length === 0) return [];
    const result = await sql<ActivityRow>`
      select ${COLUMNS}, a.message_count, a.last_message_at from ${TABLE} t ${ACTIVITY}
      where t.id = any(${[...new Set(ids)]}::bigint[])`.execute(db);
    return result.rows.map(withActivity);
  }

  /** The channel's threads, most recently active first. */
  async inChannel(db: Db, channelId: string, limit: number): Promise<ThreadWithActivity[]> {
    const result = await sql<ActivityRow>`
      select ${COLUMNS}, a.message_count, a.last_message_at from ${TABLE} t ${ACTIVITY}
      where t.channel_id = ${channelId}::bigint
      order by greatest(t.id, coalesce(a.last_id, 0)) desc limit ${limit}`.execute(db);
    return result.rows.map(withActivity);
  }

  /** The threads started from the messages, with their activity. */
  async ofMessages(db: Db, messageIds: readonly string[]): Promise<ThreadWithActivity[]> {
    if (messageIds.length === 0) return [];
    const result = await sql<ActivityRow>`
      select ${COLUMNS}, a.message_count, a.last_message_at from ${TABLE} t ${ACTIVITY}
      where t.message_id = any(${[...new Set(messageIds)]}::bigint[])`.execute(db);
    return result.rows.map(withActivity);
  }
}
