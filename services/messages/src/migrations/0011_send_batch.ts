import { type Kysely, sql } from "kysely";
import { MESSAGES_SCHEMA } from "../messages.schema-name.ts";

const MESSAGES = sql.id(MESSAGES_SCHEMA, "messages");
const READ_STATES = sql.id(MESSAGES_SCHEMA, "read_states");
const OUTBOX = sql.id(MESSAGES_SCHEMA, "outbox");
const LOCK_CHANNELS = sql.id(MESSAGES_SCHEMA, "lock_channels");

/**
 * `messages.send_batch(…)`: a batch of plain sends (no reply, attachment or thread) as ONE statement,
 * called in autocommit (send-batcher.ts). The statement is its own transaction, so the channels' locks are
 * held only while PostgreSQL executes it — not across round trips that each wait a turn of Beep's event
 * loop, as BEGIN; lock_channels_latest; insert; COMMIT did.
 *
 * Inside, in separate statements (VOLATILE: each takes a fresh snapshot, see migration 0010):
 * 1. `messages.lock_channels`: the channels' advisory locks, in ascending key order. The one definition of
 *    the key format and order: lock_channels_latest (redefined here) and MessagesRepository.lockChannels
 *    call it.
 * 2. Whether a (channel, author, nonce) of the batch is already stored. If so the function writes nothing
 *    and returns no rows: the caller runs the batch on its general path, which handles duplicates. Every
 *    message insert holds its channel's lock, so under the locks this check is exact.
 * 3. One statement: ids (each row's = greatest(its fresh snowflake, the previous id of its channel in the
 *    batch or the channel's newest id, + 1) — the recurrence in closed form: rank within the channel +
 *    greatest(newest, running max of fresh − rank)); the messages; the authors' read positions (the batch
 *    row each move takes its id from is given); the outbox rows, message.created in id order then the
 *    moves' read_state.updated in the order of their first row's id, only for positions that moved (one
 *    INSERT: the NOTIFY trigger fires once). Payloads are the caller's templates with what only SQL knows
 *    filled in: message.id and message.createdAt (as JS `Date#toISOString()` prints the stored value read
 *    back: node-pg truncates the µs to ms, so does to_char's MS), and lastReadMessageId.
 * 4. A row skipped by ON CONFLICT raises SQLSTATE BEB01, rolling everything back (the caller falls back
 *    too). Not a nonce (checked above) but an id: the fresh snowflakes were minted before the locks were
 *    granted, so a batch that waited behind a newer one is lifted to that one's newest id + 1, + 2, … —
 *    the ids its generator minted next, perhaps for another channel's messages, which this channel's lock
 *    does not order. Within one channel that cannot collide (every id is above the channel's newest).
 *
 * Returns each row's batch position (1-based), id and created_at.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function ${LOCK_CHANNELS}(channel_ids bigint[]) returns void
      language plpgsql volatile as $$
    declare
      lock_key bigint;
    begin
      -- Ascending key order: two channels whose hashes collide share a lock, and every transaction
      -- still takes its locks in the same order, so none waits on another in the opposite order.
      for lock_key in
        select distinct hashtextextended('beep.messages.channel.' || c.id::text, 0)
        from unnest(channel_ids) as c(id) order by 1
      loop
        perform pg_advisory_xact_lock(lock_key);
      end loop;
    end $$`.execute(db);

  await sql`
    create or replace function ${sql.id(MESSAGES_SCHEMA, "lock_channels_latest")}(channel_ids bigint[])
      returns table (channel_id bigint, latest_id bigint, tx_now timestamptz)
      language plpgsql volatile as $$
    begin
      perform ${LOCK_CHANNELS}(channel_ids);
      return query
        select c.id,
          (select m.id from ${MESSAGES} m where m.channel_id = c.id order by m.id desc limit 1),
          now()
        from (select distinct unnest(channel_ids)) as c(id);
    end $$`.execute(db);

  await sql`
    create function ${sql.id(MESSAGES_SCHEMA, "send_batch")}(
      fresh_ids bigint[], server_ids bigint[], channel_ids bigint[], author_ids bigint[],
      contents text[], nonces text[], mention_sets jsonb,
      created_event_ids text[], created_payloads jsonb, created_traceparents text[],
      move_rows int[], move_first_rows int[],
      move_event_ids text[], move_payloads jsonb, move_traceparents text[]
    ) returns table (ord int, id bigint, created_at timestamptz)
      language plpgsql volatile as $$
    #variable_conflict use_column
    -- (The output columns ord, id and created_at are also column names of the tables and CTEs below.)
    declare
      returned bigint;
    begin
      perform ${LOCK_CHANNELS}(channel_ids);
      if exists (
        select 1 from unnest(channel_ids, author_ids, nonces) as u(channel_id, author_id, nonce)
        join ${MESSAGES} m on m.channel_id = u.channel_id and m.author_id = u.author_id and m.nonce = u.nonce
        where u.nonce is not null
      ) then
        return;
      end if;
      return query
        with input as (
          select u.*, row_number() over (partition by u.channel_id order by u.ord) as rank
          from unnest(fresh_ids, server_ids, channel_ids, author_ids, contents, nonces)
            with ordinality as u(fresh_id, server_id, channel_id, author_id, content, nonce, ord)
        ), latest as (
          select c.channel_id,
            coalesce((select m.id from ${MESSAGES} m where m.channel_id = c.channel_id order by m.id desc limit 1), 0) as id
          from (select distinct channel_id from input) as c
        ), batch as (
          select i.ord::int as ord, i.server_id, i.channel_id, i.author_id, i.content, i.nonce,
            i.rank + greatest(l.id, max(i.fresh_id - i.rank) over (partition by i.channel_id order by i.ord)) as id
          from input i join latest l using (channel_id)
        ), inserted as (
          insert into ${MESSAGES} (id, server_id, channel_id, author_id, content, nonce, mentions)
          select b.id, b.server_id, b.channel_id, b.author_id, b.content, b.nonce, j.mentions
          from batch b join jsonb_array_elements(mention_sets) with ordinality as j(mentions, ord) on j.ord = b.ord
          on conflict do nothing
          returning ${MESSAGES}.id, ${MESSAGES}.created_at
        ), moves as (
          select m.ord, p.id as message_id, p.author_id as user_id, p.channel_id, p.server_id, f.id as first_id
          from unnest(move_rows, move_first_rows) with ordinality as m(row_ord, first_ord, ord)
          join batch p on p.ord = m.row_ord
          join batch f on f.ord = m.first_ord
        ), moved as (
          insert into ${READ_STATES} as rs (user_id, channel_id, server_id, last_read_message_id)
          select user_id, channel_id, server_id, message_id from moves
          on conflict (user_id, channel_id) do update
            set last_read_message_id = excluded.last_read_message_id, updated_at = now()
            where rs.last_read_message_id < excluded.last_read_message_id
          returning rs.user_id, rs.channel_id
        ), events as (
          insert into ${OUTBOX} (id, type, payload, traceparent)
          select e.id, e.type, e.payload, e.traceparent from (
            select 1 as kind, ins.id as sort_key, c.event_id as id, 'message.created' as type, c.traceparent,
              jsonb_set(jsonb_set(p.payload, '{message,id}', to_jsonb(ins.id::text)), '{message,createdAt}',
                to_jsonb(to_char(ins.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))) as payload
            from batch b
            join inserted ins on ins.id = b.id
            join unnest(created_event_ids, created_traceparents) with ordinality as c(event_id, traceparent, ord)
              on c.ord = b.ord
            join jsonb_array_elements(created_payloads) with ordinality as p(payload, ord) on p.ord = b.ord
            union all
            select 2, mv.first_id, r.event_id, 'read_state.updated', r.traceparent,
              jsonb_set(p.payload, '{lastReadMessageId}', to_jsonb(mv.message_id::text))
            from moves mv
            join moved on moved.user_id = mv.user_id and moved.channel_id = mv.channel_id
            join unnest(move_event_ids, move_traceparents) with ordinality as r(event_id, traceparent, ord)
              on r.ord = mv.ord
            join jsonb_array_elements(move_payloads) with ordinality as p(payload, ord) on p.ord = mv.ord
          ) as e
          order by e.kind, e.sort_key
        )
        select b.ord, ins.id, ins.created_at from batch b join inserted ins on ins.id = b.id order by b.ord;
      get diagnostics returned = row_count;
      if returned < cardinality(fresh_ids) then
        raise exception 'send_batch: a message of the batch was already stored' using errcode = 'BEB01';
      end if;
    end $$`.execute(db);
}
