import type { OutboxRow } from "@beep/bus";
import { BEEP_EPOCH_MS } from "@beep/ids";
import { type Kysely, sql } from "kysely";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import type { MentionSet, MessagesTables } from "./messages.tables.ts";

type Db = Kysely<MessagesTables>;

/** A message row as read (int8 as decimal strings). */
export interface MessageRow {
  id: string;
  server_id: string;
  channel_id: string;
  thread_id: string | null;
  author_id: string;
  content: string;
  nonce: string | null;
  created_at: Date;
  edited_at: Date | null;
  reply_to_id: string | null;
  pinned_at: Date | null;
  pinned_by: string | null;
  mentions: MentionSet;
  embeds: unknown[];
}

/** A row to insert; the id is allocated by the write path under the channel lock. */
export interface NewMessageRow {
  id: string;
  server_id: string;
  channel_id: string;
  author_id: string;
  content: string;
  nonce: string | null;
  reply_to_id: string | null;
  /** The thread (MSG-13); absent or null for the channel. */
  thread_id?: string | null;
  mentions: MentionSet;
}

// Raw SQL is not rewritten by serviceDatabase's withSchema: the table is qualified here.
const TABLE = sql.id(MESSAGES_SCHEMA, "messages");
const READ_STATES = sql.id(MESSAGES_SCHEMA, "read_states");
const OUTBOX = sql.id(MESSAGES_SCHEMA, "outbox");
const LOCK_CHANNELS = sql.id(MESSAGES_SCHEMA, "lock_channels");
const LOCK_CHANNELS_LATEST = sql.id(MESSAGES_SCHEMA, "lock_channels_latest");
const SEND_BATCH = sql.id(MESSAGES_SCHEMA, "send_batch");

/** SQLSTATE of messages.send_batch finding a message of its batch already stored after all (it wrote nothing). */
const SEND_BATCH_DUPLICATE = "BEB01";

/** A read position a batch of sends moves forward (MSG-11): the author's, to their newest message. */
export interface ReadPositionMove {
  userId: string;
  serverId: string;
  channelId: string;
  messageId: string;
}

/**
 * An event of a batch of sends, written by the batch's insert statement only if its condition held
 * there: `message.created` if its message was inserted (not a nonce duplicate), `read_state.updated`
 * if its position moved.
 */
export type SendBatchOutboxRow = OutboxRow &
  ({ ifInserted: string } | { ifMoved: { userId: string; channelId: string } });

/** A plain send (no reply, attachment or thread) for {@link MessagesRepository.sendBatch}. */
export interface PlainSendRow {
  /** A fresh snowflake: the id's lower bound (the channel's newest id + 1 is the other). */
  freshId: string;
  serverId: string;
  channelId: string;
  authorId: string;
  content: string;
  nonce: string | null;
  mentions: MentionSet;
}

/**
 * A batch for {@link MessagesRepository.sendBatch}: the sends; per send its `message.created` outbox row, whose
 * payload's message.id and message.createdAt are filled in by SQL; the read positions to move, each to the id
 * of the batch row at index `row`, ordered among the moves by the id of the row at `firstRow`, and announced by
 * its `read_state.updated` row if it moved (lastReadMessageId filled in by SQL).
 */
export interface PlainSendBatch {
  rows: readonly PlainSendRow[];
  created: readonly OutboxRow[];
  moves: ReadonlyArray<{ row: number; firstRow: number; event: OutboxRow }>;
}

const COLUMNS = sql.raw(
  "id, server_id, channel_id, thread_id, author_id, content, nonce, created_at, edited_at, reply_to_id, pinned_at, pinned_by, mentions, embeds",
);

/** A JSON array of JSON texts, by concatenation: each element is already valid JSON. */
function jsonArray(jsonTexts: readonly string[]): string {
  return `[${jsonTexts.join(",")}]`;
}

/** The lowest snowflake minted at or after `time` (ids hold ms since the Beep epoch above 22 bits). */
export function firstIdAt(time: Date): string {
  const ms = BigInt(Math.max(0, time.getTime() - BEEP_EPOCH_MS));
  return (ms << 22n).toString();
}

/** SQL of the messages schema; every statement is one round trip. */
export class MessagesRepository {
  /**
   * Takes the channels' write locks (transaction-scoped, in key order so two batches never deadlock). Every
   * write that allocates ids or counts pins holds its channel's lock until commit, which is what makes
   * per-channel id order equal commit order (see allocateIds).
   */
  async lockChannels(db: Db, channelIds: readonly string[]): Promise<void> {
    const unique = [...new Set(channelIds)];
    if (unique.length === 0) return;
    // messages.lock_channels (migration 0011) is the one definition of the keys and their order, which
    // the send path's functions use too.
    await sql`select ${LOCK_CHANNELS}(${unique}::bigint[])`.execute(db);
  }

  /**
   * {@link lockChannels} and then, seeing every commit made under those locks, the newest id of each
   * channel (absent when empty) and the transaction's now() — the created_at its inserts get: one
   * statement (a PL/pgSQL function, migration 0010, explains why it cannot be plain SQL).
   */
  async lockChannelsLatest(
    db: Db,
    channelIds: readonly string[],
  ): Promise<{ latest: Map<string, bigint>; now: Date }> {
    const result = await sql<{ channel_id: string; latest_id: string | null; tx_now: Date }>`
      select channel_id, latest_id, tx_now from ${LOCK_CHANNELS_LATEST}(${[...new Set(channelIds)]}::bigint[])`.execute(
      db,
    );
    const first = result.rows[0];
    if (first === undefined) throw new Error("lockChannelsLatest needs at least one channel");
    const latest = new Map<string, bigint>();
    for (const row of result.rows)
      if (row.latest_id !== null) latest.set(row.channel_id, BigInt(row.latest_id));
    return { latest, now: first.tx_now };
  }

  /** The newest id of each channel (absent when empty): one index descent per channel. */
  async latestIds(db: Db, channelIds: readonly string[]): Promise<Map<string, bigint>> {
    const result = await sql<{ channel_id: string; id: string | null }>`
      select c.channel_id, (select m.id from ${TABLE} m where m.channel_id = c.channel_id order by m.id desc limit 1) as id
      from unnest(${channelIds}::bigint[]) as c(channel_id)`.execute(db);
    const latest = new Map<string, bigint>();
    for (const row of result.rows) if (row.id !== null) latest.set(row.channel_id, BigInt(row.id));
    return latest;
  }

  /** The channel of each existing message id. */
  async channelsOf(db: Db, messageIds: readonly string[]): Promise<Map<string, string>> {
    if (messageIds.length === 0) return new Map();
    const rows = await db
      .selectFrom("messages")
      .select(["id", "channel_id"])
      .where("id", "in", [...new Set(messageIds)])
      .execute();
    return new Map(rows.map((row) => [row.id, row.channel_id]));
  }

  /**
   * A batch of sends in one statement (data-modifying CTEs): inserts the messages, skipping those whose
   * (channel, author, nonce) already exists; moves the read positions unless a message was skipped (they
   * were computed for all of them — the caller moves the right ones itself then); and writes the events
   * whose condition held, in the order given (the outbox `seq` follows it, and the relay publishes by
   * `seq`). Returns the ids of the inserted messages.
   */
  async insertSendBatch(
    db: Db,
    batch: {
      rows: readonly NewMessageRow[];
      moves: readonly ReadPositionMove[];
      events: readonly SendBatchOutboxRow[];
    },
  ): Promise<Set<string>> {
    const { rows, moves, events } = batch;
    if (rows.length === 0) return new Set();
    // Arrays (one parameter per column, not per value): the statement text is the same for every batch.
    // JSON values travel as one JSON array each rather than as jsonb[]: pg would escape every quote of
    // every payload into an array literal, a measurable cost per send.
    const result = await sql<{ id: string }>`
      with inserted as (
        insert into ${TABLE} (id, server_id, channel_id, thread_id, author_id, content, nonce, reply_to_id, mentions)
        select u.id, u.server_id, u.channel_id, u.thread_id, u.author_id, u.content, u.nonce, u.reply_to_id, m.mentions
        from unnest(
          ${rows.map((r) => r.id)}::bigint[], ${rows.map((r) => r.server_id)}::bigint[],
          ${rows.map((r) => r.channel_id)}::bigint[], ${rows.map((r) => r.thread_id ?? null)}::bigint[],
          ${rows.map((r) => r.author_id)}::bigint[], ${rows.map((r) => r.content)}::text[],
          ${rows.map((r) => r.nonce)}::text[], ${rows.map((r) => r.reply_to_id)}::bigint[]
        ) with ordinality as u(id, server_id, channel_id, thread_id, author_id, content, nonce, reply_to_id, ord)
        join jsonb_array_elements(${jsonArray(rows.map((r) => JSON.stringify(r.mentions)))}::jsonb)
          with ordinality as m(mentions, ord) using (ord)
        on conflict (channel_id, author_id, nonce) where nonce is not null do nothing
        returning id
      ), moved as (
        insert into ${READ_STATES} as rs (user_id, channel_id, server_id, last_read_message_id)
        select * from unnest(${moves.map((m) => m.userId)}::bigint[], ${moves.map((m) => m.channelId)}::bigint[],
          ${moves.map((m) => m.serverId)}::bigint[], ${moves.map((m) => m.messageId)}::bigint[])
        where (select count(*) from inserted) = ${rows.length}
        on conflict (user_id, channel_id) do update
          set last_read_message_id = excluded.last_read_message_id, updated_at = now()
          where rs.last_read_message_id < excluded.last_read_message_id
        returning user_id, channel_id
      ), events as (
        insert into ${OUTBOX} (id, type, payload, traceparent)
        select e.id, e.type, p.payload, e.traceparent
        from unnest(${events.map((e) => e.id)}::text[], ${events.map((e) => e.type)}::text[],
          ${events.map((e) => e.traceparent)}::text[],
          ${events.map((e) => ("ifInserted" in e ? e.ifInserted : null))}::bigint[],
          ${events.map((e) => ("ifMoved" in e ? e.ifMoved.userId : null))}::bigint[],
          ${events.map((e) => ("ifMoved" in e ? e.ifMoved.channelId : null))}::bigint[]
        ) with ordinality as e(id, type, traceparent, message_id, user_id, channel_id, ord)
        join jsonb_array_elements(${jsonArray(events.map((e) => e.payload))}::jsonb)
          with ordinality as p(payload, ord) using (ord)
        where e.message_id in (select id from inserted)
          or exists (select 1 from moved where moved.user_id = e.user_id and moved.channel_id = e.channel_id)
        order by ord
      )
      select id::text as id from inserted`.execute(db);
    return new Set(result.rows.map((row) => row.id));
  }

  /**
   * A batch of plain sends as ONE statement, run outside any transaction (autocommit): the function
   * messages.send_batch (migration 0011) takes the channels' locks, allocates the ids, inserts the
   * messages, moves the read positions and writes the events, and the statement's commit releases the
   * locks — held while PostgreSQL executes, not across round trips. Returns per row (in the order given)
   * its id and created_at; null if a (channel, author, nonce) of the batch was already stored, in which
   * case nothing was written.
   */
  async sendBatch(db: Db, batch: PlainSendBatch): Promise<Array<{ id: string; created_at: Date }> | null> {
    const { rows, created, moves } = batch;
    if (rows.length === 0) return [];
    try {
      const result = await sql<{ ord: number; id: string; created_at: Date }>`
        select ord, id::text as id, created_at from ${SEND_BATCH}(
          ${rows.map((r) => r.freshId)}::bigint[], ${rows.map((r) => r.serverId)}::bigint[],
          ${rows.map((r) => r.channelId)}::bigint[], ${rows.map((r) => r.authorId)}::bigint[],
          ${rows.map((r) => r.content)}::text[], ${rows.map((r) => r.nonce)}::text[],
          ${jsonArray(rows.map((r) => JSON.stringify(r.mentions)))}::jsonb,
          ${created.map((e) => e.id)}::text[], ${jsonArray(created.map((e) => e.payload))}::jsonb,
          ${created.map((e) => e.traceparent)}::text[],
          ${moves.map((m) => m.row + 1)}::int[], ${moves.map((m) => m.firstRow + 1)}::int[],
          ${moves.map((m) => m.event.id)}::text[], ${jsonArray(moves.map((m) => m.event.payload))}::jsonb,
          ${moves.map((m) => m.event.traceparent)}::text[])`.execute(db);
      if (result.rows.length === 0) return null;
      const stored = new Array<{ id: string; created_at: Date }>(rows.length);
      for (const row of result.rows) stored[row.ord - 1] = { id: row.id, created_at: row.created_at };
      return stored;
    } catch (error) {
      if ((error as { code?: unknown }).code === SEND_BATCH_DUPLICATE) return null;
      throw error;
    }
  }

  /** Existing messages by (channel, author, nonce). */
  async findByNonces(
    db: Db,
    keys: ReadonlyArray<{ channelId: string; authorId: string; nonce: string }>,
  ): Promise<MessageRow[]> {
    if (keys.length === 0) return [];
    const result = await sql<MessageRow>`
      select ${COLUMNS} from ${TABLE}
      where (channel_id, author_id, nonce) in (${sql.join(
        keys.map((k) => sql`(${k.channelId}::bigint, ${k.authorId}::bigint, ${k.nonce})`),
      )})`.execute(db);
    return result.rows;
  }

  async find(db: Db, id: string): Promise<MessageRow | undefined> {
    const result = await sql<MessageRow>`select ${COLUMNS} from ${TABLE} where id = ${id}::bigint`.execute(
      db,
    );
    return result.rows[0];
  }

  /** Locks one message row for an update in this transaction. */
  async findForUpdate(db: Db, id: string): Promise<MessageRow | undefined> {
    const result = await sql<MessageRow>`
      select ${COLUMNS} from ${TABLE} where id = ${id}::bigint for update`.execute(db);
    return result.rows[0];
  }

  async findMany(db: Db, ids: readonly string[]): Promise<MessageRow[]> {
    if (ids.length === 0) return [];
    const result = await sql<MessageRow>`
      select ${COLUMNS} from ${TABLE} where id = any(${[...new Set(ids)]}::bigint[])`.execute(db);
    return result.rows;
  }

  async updateContent(db: Db, id: string, content: string, mentions: MentionSet): Promise<MessageRow> {
    const result = await sql<MessageRow>`
      update ${TABLE} set content = ${content}, mentions = ${JSON.stringify(mentions)}::jsonb, edited_at = now()
      where id = ${id}::bigint returning ${COLUMNS}`.execute(db);
    return result.rows[0]!;
  }

  async setPinned(db: Db, id: string, by: string | null): Promise<MessageRow> {
    const result = await sql<MessageRow>`
      update ${TABLE}
      set pinned_at = case when ${by}::bigint is null then null else now() end, pinned_by = ${by}::bigint
      where id = ${id}::bigint returning ${COLUMNS}`.execute(db);
    return result.rows[0]!;
  }

  async countPins(db: Db, channelId: string): Promise<number> {
    const result = await sql<{ n: string }>`
      select count(*) as n from ${TABLE} where channel_id = ${channelId}::bigint and pinned_at is not null`.execute(
      db,
    );
    return Number(result.rows[0]?.n ?? 0);
  }

  async pins(db: Db, channelId: string): Promise<MessageRow[]> {
    const result = await sql<MessageRow>`
      select ${COLUMNS} from ${TABLE} where channel_id = ${channelId}::bigint and pinned_at is not null
      order by pinned_at desc, id desc`.execute(db);
    return result.rows;
  }

  async delete(db: Db, id: string): Promise<void> {
    await sql`delete from ${TABLE} where id = ${id}::bigint`.execute(db);
  }

  /**
   * A page of the channel's top-level messages (or of one of its threads, MSG-13): `id < bound` newest
   * first ("older"), or `id > bound` oldest first ("newer"); `limit` rows at most.
   */
  async page(
    db: Db,
    channelId: string,
    direction: "older" | "newer",
    bound: { id: string; inclusive: boolean } | undefined,
    limit: number,
    threadId?: string,
  ): Promise<MessageRow[]> {
    const op = direction === "older" ? (bound?.inclusive ? "<=" : "<") : bound?.inclusive ? ">=" : ">";
    const where = bound ? sql`and id ${sql.raw(op)} ${bound.id}::bigint` : sql``;
    const order = sql.raw(direction === "older" ? "desc" : "asc");
    const result = await sql<MessageRow>`
      select ${COLUMNS} from ${TABLE}
      where channel_id = ${channelId}::bigint
        and ${threadId === undefined ? sql`thread_id is null` : sql`thread_id = ${threadId}::bigint`} ${where}
      order by id ${order} limit ${limit}`.execute(db);
    return result.rows;
  }

  /** Deletes every message of the server (it was deleted); returns the count. */
  async deleteServer(db: Db, serverId: string): Promise<number> {
    const result = await sql`delete from ${TABLE} where server_id = ${serverId}::bigint`.execute(db);
    return Number(result.numAffectedRows ?? 0n);
  }

  /** Deletes every message of the channels; returns the count. */
  async deleteChannels(db: Db, channelIds: readonly string[]): Promise<number> {
    if (channelIds.length === 0) return 0;
    const result = await sql`delete from ${TABLE} where channel_id = any(${channelIds}::bigint[])`.execute(
      db,
    );
    return Number(result.numAffectedRows ?? 0n);
  }

  /** Deletes the author's messages in the server sent at or after `since`; returns their ids and channels. */
  async purgeAuthor(
    db: Db,
    serverId: string,
    authorId: string,
    since: Date,
  ): Promise<Array<{ id: string; channel_id: string }>> {
    const result = await sql<{ id: string; channel_id: string }>`
      delete from ${TABLE}
      where server_id = ${serverId}::bigint and author_id = ${authorId}::bigint
        and id >= ${firstIdAt(since)}::bigint and created_at >= ${since}
      returning id, channel_id`.execute(db);
    return result.rows;
  }
}
