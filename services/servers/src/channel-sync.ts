import { sql, type Transaction } from "kysely";
import type { ServersTables } from "./servers.tables.ts";

type Trx = Transaction<ServersTables>;

/**
 * Discord's sync model for folder overwrites: a channel created in a folder, or moved into one with
 * `syncPermissions`, gets a copy of the folder's overwrites and is "synced"; editing the folder's
 * overwrites rewrites its synced channels; editing a channel's own overwrites unsyncs it.
 */

/** Replaces the channel's overwrites with a copy of the folder's and marks it synced. */
export async function syncWithFolder(trx: Trx, channelId: string, folderId: string): Promise<void> {
  await trx.deleteFrom("overwrites").where("channel_id", "=", channelId).execute();
  await sql`
    insert into servers.overwrites (channel_id, target_type, target_id, allow, deny)
    select ${channelId}::bigint, o.target_type, o.target_id, o.allow, o.deny
      from servers.overwrites o where o.channel_id = ${folderId}::bigint`.execute(trx);
  await setSynced(trx, channelId, true);
}

/** Rewrites every synced channel of the folder to the folder's overwrites; returns their ids. */
export async function propagateToSyncedChildren(trx: Trx, folderId: string): Promise<string[]> {
  const children = await trx
    .selectFrom("channels")
    .select("id")
    .where("parent_id", "=", folderId)
    .where("permissions_synced", "=", true)
    .execute();
  const ids = children.map((row) => String(row.id));
  if (ids.length === 0) return [];
  await trx.deleteFrom("overwrites").where("channel_id", "in", ids).execute();
  await sql`
    insert into servers.overwrites (channel_id, target_type, target_id, allow, deny)
    select c.id, o.target_type, o.target_id, o.allow, o.deny
      from servers.channels c join servers.overwrites o on o.channel_id = ${folderId}::bigint
     where c.parent_id = ${folderId}::bigint and c.permissions_synced`.execute(trx);
  return ids;
}

/** Sets or clears the channel's synced flag. */
export async function setSynced(trx: Trx, channelId: string, synced: boolean): Promise<void> {
  await trx.updateTable("channels").set({ permissions_synced: synced }).where("id", "=", channelId).execute();
}
