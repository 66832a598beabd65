import { type Kysely, sql } from "kysely";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import type { MessagesTables } from "./messages.tables.ts";

type Db = Kysely<MessagesTables>;

const TABLE = sql.id(MESSAGES_SCHEMA, "reactions");

/** One emoji on one message, as the viewer sees it. */
export interface ReactionSummary {
  emoji: string;
  count: number;
  /** True when the viewer is among those who reacted with it. */
  me: boolean;
}

/** SQL of reactions (MSG-9); every statement is one round trip. */
export class ReactionsRepository {
  /** Adds the user's reaction; false when it was already there. */
  async insert(db: Db, messageId: string, emoji: string, userId: string): Promise<boolean> {
    const result = await sql`
      insert into ${TABLE} (message_id, emoji, user_id) values (${messageId}::bigint, ${emoji}, ${userId}::bigint)
      on conflict do nothing`.execute(db);
    return Number(result.numAffectedRows ?? 0n) > 0;
  }

  /** Removes the user's reaction; false when there was none. */
  async delete(db: Db, messageId: string, emoji: string, userId: string): Promise<boolean> {
    const result = await sql`
      delete from ${TABLE}
      where message_id = ${messageId}::bigint and emoji = ${emoji} and user_id = ${userId}::bigint`.execute(
      db,
    );
    return Number(result.numAffectedRows ?? 0n) > 0;
  }

  /** The distinct emoji on the message. */
  async emojiOf(db: Db, messageId: string): Promise<string[]> {
    const result = await sql<{ emoji: string }>`
      select distinct emoji from ${TABLE} where message_id = ${messageId}::bigint`.execute(db);
    return result.rows.map((row) => row.emoji);
  }

  /**
   * The reactions of many messages in one query, per message in the order each emoji first appeared,
   * with whether `viewerId` is among its users.
   */
  async summaries(
    db: Db,
    messageIds: readonly string[],
    viewerId: string,
  ): Promise<Map<string, ReactionSummary[]>> {
    const found = new Map<string, ReactionSummary[]>();
    if (messageIds.length === 0) return found;
    const result = await sql<{ message_id: string; emoji: string; n: string; me: boolean }>`
      select message_id, emoji, count(*) as n, bool_or(user_id = ${viewerId}::bigint) as me
      from ${TABLE} where message_id = any(${[...new Set(messageIds)]}::bigint[])
      group by message_id, emoji
      order by message_id, min(created_at), emoji`.execute(db);
    for (const row of result.rows) {
      let list = found.get(row.message_id);
      if (!list) {
        list = [];
        found.set(row.message_id, list);
      }
      list.push({ emoji: row.emoji, count: Number(row.n), me: row.me });
    }
    return found;
  }

  /** Users who reacted with the emoji, by ascending user id after `after`; `limit` at most. */
  async users(
    db: Db,
    messageId: string,
    emoji: string,
    after: string | undefined,
    limit: number,
  ): Promise<string[]> {
    const from = after === undefined ? sql`` : sql`and user_id > ${after}::bigint`;
    const result = await sql<{ user_id: string }>`
      select user_id from ${TABLE}
      where message_id = ${messageId}::bigint and emoji = ${emoji} ${from}
      order by user_id limit ${limit}`.execute(db);
    return result.rows.map((row) => row.user_id);
  }
}
