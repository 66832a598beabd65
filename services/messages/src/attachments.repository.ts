import { type Kysely, sql } from "kysely";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import type { MessagesTables } from "./messages.tables.ts";

type Db = Kysely<MessagesTables>;

/** An attachment row as read (int8 as decimal strings). */
export interface AttachmentRow {
  id: string;
  uploader_id: string;
  server_id: string;
  channel_id: string;
  message_id: string | null;
  filename: string;
  content_type: string;
  size: string;
  width: number | null;
  height: number | null;
  blob_key: string;
  thumbnail_key: string | null;
  created_at: Date;
}

/** A pending upload to record. */
export interface NewAttachmentRow {
  id: string;
  uploader_id: string;
  server_id: string;
  channel_id: string;
  filename: string;
  content_type: string;
  size: number;
  width: number | null;
  height: number | null;
  blob_key: string;
  thumbnail_key: string | null;
}

// Raw SQL is not rewritten by serviceDatabase's withSchema: tables are qualified here.
const TABLE = sql.id(MESSAGES_SCHEMA, "attachments");
const DELETIONS = sql.id(MESSAGES_SCHEMA, "attachment_blob_deletions");
const COLUMNS = sql.raw(
  "id, uploader_id, server_id, channel_id, message_id, filename, content_type, size, width, height, blob_key, thumbnail_key, created_at",
);

/** SQL of `messages.attachments` and its blob deletion queue (MSG-8). */
export class AttachmentsRepository {
  async insert(db: Db, row: NewAttachmentRow): Promise<AttachmentRow> {
    const result = await sql<AttachmentRow>`
      insert into ${TABLE} (id, uploader_id, server_id, channel_id, filename, content_type, size, width, height,
        blob_key, thumbnail_key)
      values (${row.id}::bigint, ${row.uploader_id}::bigint, ${row.server_id}::bigint, ${row.channel_id}::bigint,
        ${row.filename}, ${row.content_type}, ${row.size}, ${row.width}, ${row.height}, ${row.blob_key},
        ${row.thumbnail_key})
      returning ${COLUMNS}`.execute(db);
    return result.rows[0]!;
  }

  async find(db: Db, id: string): Promise<AttachmentRow | undefined> {
    const result = await sql<AttachmentRow>`select ${COLUMNS} from ${TABLE} where id = ${id}::bigint`.execute(
      db,
    );
    return result.rows[0];
  }

  /** The rows of these ids, locked until commit (a concurrent send cannot attach them too). */
  async lockMany(db: Db, ids: readonly string[]): Promise<AttachmentRow[]> {
    if (ids.length === 0) return [];
    const result = await sql<AttachmentRow>`
      select ${COLUMNS} from ${TABLE} where id = any(${ids}::bigint[]) order by id for update`.execute(db);
    return result.rows;
  }

  /** Attaches pending rows to a message; returns the attached rows. */
  async attach(db: Db, messageId: string, ids: readonly string[]): Promise<AttachmentRow[]> {
    if (ids.length === 0) return [];
    const result = await sql<AttachmentRow>`
      update ${TABLE} set message_id = ${messageId}::bigint
      where id = any(${ids}::bigint[]) and message_id is null
      returning ${COLUMNS}`.execute(db);
    return result.rows;
  }

  /** The attachments of the messages, in upload (id) order. */
  async ofMessages(db: Db, messageIds: readonly string[]): Promise<AttachmentRow[]> {
    if (messageIds.length === 0) return [];
    const result = await sql<AttachmentRow>`
      select ${COLUMNS} from ${TABLE} where message_id = any(${messageIds}::bigint[]) order by id`.execute(
      db,
    );
    return result.rows;
  }

  /**
   * Deletes the rows chosen by `where` and queues their blobs (original and thumbnail) for deletion in the
   * same statement, so a crash never leaves a blob without a row or a queue entry. Returns the rows' count.
   */
  private async discard(db: Db, where: ReturnType<typeof sql>): Promise<number> {
    const result = await sql<{ n: string }>`
      with gone as (delete from ${TABLE} where ${where} returning blob_key, thumbnail_key),
      queued as (
        insert into ${DELETIONS} (blob_key)
        select key from gone, unnest(array[gone.blob_key, gone.thumbnail_key]) as key where key is not null
        on conflict do nothing)
      select count(*)::text as n from gone`.execute(db);
    return Number(result.rows[0]?.n ?? 0);
  }

  /** Discards the attachments of deleted messages. */
  discardForMessages(db: Db, messageIds: readonly string[]): Promise<number> {
    if (messageIds.length === 0) return Promise.resolve(0);
    return this.discard(db, sql`message_id = any(${messageIds}::bigint[])`);
  }

  /** Discards every attachment (pending or attached) of deleted channels. */
  discardForChannels(db: Db, channelIds: readonly string[]): Promise<number> {
    if (channelIds.length === 0) return Promise.resolve(0);
    return this.discard(db, sql`channel_id = any(${channelIds}::bigint[])`);
  }

  /** Discards every attachment (pending or attached) of a deleted server. */
  discardForServer(db: Db, serverId: string): Promise<number> {
    return this.discard(db, sql`server_id = ${serverId}::bigint`);
  }

  /** Discards pending uploads created before `cutoff` (never attached within the TTL). */
  discardPendingBefore(db: Db, cutoff: Date): Promise<number> {
    return this.discard(db, sql`message_id is null and created_at < ${cutoff}`);
  }

  /** Up to `limit` queued blob keys, oldest first. */
  async queuedBlobs(db: Db, limit: number): Promise<string[]> {
    const result = await sql<{ blob_key: string }>`
      select blob_key from ${DELETIONS} order by queued_at, blob_key limit ${limit}`.execute(db);
    return result.rows.map((row) => row.blob_key);
  }

  /** Forgets queued keys whose blobs are deleted. */
  async dequeueBlobs(db: Db, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await sql`delete from ${DELETIONS} where blob_key = any(${keys}::text[])`.execute(db);
  }
}
