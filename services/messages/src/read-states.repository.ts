import { type Kysely, sql } from "kysely";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import type { MessagesTables } from "./messages.tables.ts";

type Db = Kysely<MessagesTables>;

const TABLE = sql.id(MESSAGES_SCHEMA, "read_states");
const MESSAGES = sql.id(MESSAGES_SCHEMA, "messages");

/** Unread messages counted per channel at most; past it, `hasMoreUnread`. */
export const UNREAD_CAP = 1000;

/** One channel's read state with its counts. */
export interface ReadStateCounts {
  channelId: string;
  lastReadMessageId: string | null;
  unreadCount: number;
  hasMoreUnread: boolean;
  mentionCount: number;
}

/** SQL of read states (MSG-11). */
export class ReadStatesRepository {
  /**
   * Moves the user's position in the channel to `messageId` unless it is already there or past it;
   * true when it moved.
   */
  async advance(
    db: Db,
    row: { userId: string; serverId: string; channelId: string; messageId: string },
  ): Promise<boolean> {
    const result = await sql`
      insert into ${TABLE} as rs (user_id, channel_id, server_id, last_read_message_id)
      values (${row.userId}::bigint, ${row.channelId}::bigint, ${row.serverId}::bigint, ${row.messageId}::bigint)
      on conflict (user_id, channel_id) do update
        set last_read_message_id = excluded.last_read_message_id, updated_at = now()
        where rs.last_read_message_id < excluded.last_read_message_id`.execute(db);
    return Number(result.numAffectedRows ?? 0n) > 0;
  }

  /** Moves many positions forward in one statement (one per (user, channel)); returns those that moved. */
  async advanceMany(
    db: Db,
    rows: ReadonlyArray<{ userId: string; serverId: string; channelId: string; messageId: string }>,
  ): Promise<Array<{ userId: string; serverId: string; channelId: string; messageId: string }>> {
    if (rows.length === 0) return [];
    const result = await sql<{ user_id: string; server_id: string; channel_id: string; id: string }>`
      insert into ${TABLE} as rs (user_id, channel_id, server_id, last_read_message_id)
      select * from unnest(${rows.map((r) => r.userId)}::bigint[], ${rows.map((r) => r.channelId)}::bigint[],
        ${rows.map((r) => r.serverId)}::bigint[], ${rows.map((r) => r.messageId)}::bigint[])
      on conflict (user_id, channel_id) do update
        set last_read_message_id = excluded.last_read_message_id, updated_at = now()
        where rs.last_read_message_id < excluded.last_read_message_id
      returning user_id::text, server_id::text, channel_id::text, last_read_message_id::text as id`.execute(
      db,
    );
    return result.rows.map((row) => ({
      userId: row.user_id,
      serverId: row.server_id,
      channelId: row.channel_id,
      messageId: row.id,
    }));
  }

  /**
   * Read state and counts of each channel, in the order given, in one statement: per channel one index
   * range scan of (channel_id, id) over at most {@link UNREAD_CAP}+1 of the newest messages after the
   * user's position. Unread: top-level messages of others; mentions: those naming the user, one of
   * `roleIds`, or @everyone/@here. Mentions are counted among the newest {@link UNREAD_CAP} unread.
   */
  async counts(
    db: Db,
    userId: string,
    channelIds: readonly string[],
    roleIds: readonly string[],
  ): Promise<ReadStateCounts[]> {
    if (channelIds.length === 0) return [];
    const result = await sql<{
      channel_id: string;
      last_read_message_id: string | null;
      unread: string;
      mentions: string;
    }>`
      select c.channel_id::text as channel_id, rs.last_read_message_id::text as last_read_message_id,
        w.unread, w.mentions
      from unnest(${[...channelIds]}::bigint[]) with ordinality as c(channel_id, ord)
      left join ${TABLE} rs on rs.user_id = ${userId}::bigint and rs.channel_id = c.channel_id
      cross join lateral (
        select count(*) as unread,
          count(*) filter (where
            (u.mentions -> 'userIds') ? ${userId}::text
            or coalesce((u.mentions ->> 'everyone')::boolean, false)
            or (u.mentions -> 'roleIds') ?| ${[...roleIds]}::text[]) as mentions
        from (
          select m.mentions from ${MESSAGES} m
          where m.channel_id = c.channel_id and m.thread_id is null
            and m.id > coalesce(rs.last_read_message_id, 0) and m.author_id <> ${userId}::bigint
          order by m.id desc limit ${UNREAD_CAP + 1}
        ) u
      ) w
      order by c.ord`.execute(db);
    return result.rows.map((row) => {
      const unread = Number(row.unread);
      return {
        channelId: row.channel_id,
        lastReadMessageId: row.last_read_message_id,
        unreadCount: Math.min(unread, UNREAD_CAP),
        hasMoreUnread: unread > UNREAD_CAP,
        mentionCount: Math.min(Number(row.mentions), UNREAD_CAP),
      };
    });
  }
}
