import { type Kysely, sql } from "kysely";
import { MESSAGES_SCHEMA } from "../messages.schema-name.ts";

const MESSAGES = sql.id(MESSAGES_SCHEMA, "messages");

/**
 * `messages.lock_channels_latest(channel_ids)`: the first statement of a batch of sends (send-batcher.ts).
 * It takes the channels' write locks, then reads each channel's newest id and the transaction's now()
 * (what the created_at default will store), in one round trip.
 *
 * Why a function: under READ COMMITTED a plain statement takes its snapshot before its locks are granted,
 * so its "newest id" would miss the commit of the batch that held the lock just before — and the ids
 * allocated from it could sort below that batch's. Each statement of a VOLATILE PL/pgSQL function takes a
 * fresh snapshot, so the read after the locks sees every commit made under them.
 *
 * The lock keys and their order are MessagesRepository.lockChannels's: the same channel locks the same
 * key (`'beep.messages.channel.' || id`, the id in decimal), and keys are taken in ascending order so
 * two transactions never wait on each other in opposite orders, even when two channels' hashes collide.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function ${sql.id(MESSAGES_SCHEMA, "lock_channels_latest")}(channel_ids bigint[])
      returns table (channel_id bigint, latest_id bigint, tx_now timestamptz)
      language plpgsql volatile as $$
    declare
      lock_key bigint;
    begin
      for lock_key in
        select distinct hashtextextended('beep.messages.channel.' || c.id::text, 0)
        from unnest(channel_ids) as c(id) order by 1
      loop
        perform pg_advisory_xact_lock(lock_key);
      end loop;
      return query
        select c.id,
          (select m.id from ${MESSAGES} m where m.channel_id = c.id order by m.id desc limit 1),
          now()
        from (select distinct unnest(channel_ids)) as c(id);
    end $$`.execute(db);
}
