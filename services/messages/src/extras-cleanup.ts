import { type Kysely, sql } from "kysely";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import type { MessagesTables } from "./messages.tables.ts";

const THREADS = sql.id(MESSAGES_SCHEMA, "threads");
const READ_STATES = sql.id(MESSAGES_SCHEMA, "read_states");

/**
 * Threads and read positions of deleted channels or a deleted server (the messages themselves, and
 * with them their reactions, go in cleanup.consumers.ts, in the same inbox transaction).
 */
export async function deleteChannelExtras(
  db: Kysely<MessagesTables>,
  target: { serverId: string } | { channelIds: readonly string[] },
): Promise<void> {
  if ("serverId" in target) {
    await sql`delete from ${THREADS} where server_id = ${target.serverId}::bigint`.execute(db);
    await sql`delete from ${READ_STATES} where server_id = ${target.serverId}::bigint`.execute(db);
    return;
  }
  if (target.channelIds.length === 0) return;
  const ids = [...target.channelIds];
  await sql`delete from ${THREADS} where channel_id = any(${ids}::bigint[])`.execute(db);
  await sql`delete from ${READ_STATES} where channel_id = any(${ids}::bigint[])`.execute(db);
}
