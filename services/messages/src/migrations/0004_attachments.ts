import { type Kysely, sql } from "kysely";
import { MESSAGES_SCHEMA } from "../messages.schema-name.ts";

const ATTACHMENTS = sql.id(MESSAGES_SCHEMA, "attachments");
const MESSAGES = sql.id(MESSAGES_SCHEMA, "messages");

/**
 * Message attachments (MSG-8). A row is pending (`message_id` null) from upload until a send attaches
 * it; pending rows older than the TTL are swept with their blobs. `message_id` is indexed: message
 * reads, deletion and has:file search go through it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await upBlobDeletions(db);
  await sql`
    create table ${ATTACHMENTS} (
      id bigint primary key,
      uploader_id bigint not null,
      server_id bigint not null,
      channel_id bigint not null,
      message_id bigint,
      filename text not null check (char_length(filename) between 1 and 255),
      content_type text not null,
      size bigint not null check (size >= 0),
      width integer,
      height integer,
      blob_key text not null,
      thumbnail_key text,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index attachments_message_id_idx on ${ATTACHMENTS} (message_id)`.execute(db);
  // Sweeping pending uploads, oldest first.
  await sql`create index attachments_pending_idx on ${ATTACHMENTS} (created_at) where message_id is null`.execute(
    db,
  );
  // Channel and server deletion find every attachment, pending or attached.
  await sql`create index attachments_channel_idx on ${ATTACHMENTS} (channel_id)`.execute(db);
  await sql`create index attachments_server_idx on ${ATTACHMENTS} (server_id)`.execute(db);
  // A message may now be only attachments: empty content is allowed (the service still refuses a
  // message with neither text nor attachments).
  await sql`alter table ${MESSAGES} drop constraint if exists messages_content_check`.execute(db);
  await sql`alter table ${MESSAGES} add constraint messages_content_check check (char_length(content) <= 4000)`.execute(
    db,
  );
}

/**
 * Blob keys whose rows are gone (message, channel or server deleted; pending upload expired), queued in
 * the same transaction as the deletion so no blob is orphaned by a crash; the sweeper deletes them.
 */
async function upBlobDeletions(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table ${sql.id(MESSAGES_SCHEMA, "attachment_blob_deletions")} (
      blob_key text primary key,
      queued_at timestamptz not null default now()
    )`.execute(db);
}
