import type { ColumnType } from "kysely";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type NullableInt8 = ColumnType<string | null, string | null | undefined, string | null>;

/** What a message mentions, resolved at send/edit time (MSG-6). */
export interface MentionSet {
  userIds: string[];
  roleIds: string[];
  channelIds: string[];
  everyone: boolean;
}

/** `messages.messages`: one row per message. */
export interface MessagesTable {
  id: string;
  server_id: string;
  channel_id: string;
  thread_id: NullableInt8;
  author_id: string;
  content: string;
  nonce: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Timestamp;
  edited_at: NullableTimestamp;
  reply_to_id: NullableInt8;
  pinned_at: NullableTimestamp;
  pinned_by: NullableInt8;
  mentions: ColumnType<MentionSet, string | undefined, string>;
  embeds: ColumnType<unknown[], string | undefined, string>;
}

/** `messages.attachments`: one row per uploaded file; `message_id` null while pending (MSG-8). */
export interface AttachmentsTable {
  id: string;
  uploader_id: string;
  server_id: string;
  channel_id: string;
  message_id: NullableInt8;
  filename: string;
  content_type: string;
  size: ColumnType<string, string | number, string | number>;
  width: ColumnType<number | null, number | null | undefined, number | null>;
  height: ColumnType<number | null, number | null | undefined, number | null>;
  blob_key: string;
  thumbnail_key: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Timestamp;
}

/** `messages.attachment_blob_deletions`: blobs to delete, queued with the deletion of their rows. */
export interface AttachmentBlobDeletionsTable {
  blob_key: string;
  queued_at: Timestamp;
}

/** `messages.reactions`: one row per (message, emoji, user) (MSG-9). */
export interface ReactionsTable {
  message_id: string;
  emoji: string;
  user_id: string;
  created_at: Timestamp;
}

/** `messages.read_states`: per (user, channel) the last message read (MSG-11). */
export interface ReadStatesTable {
  user_id: string;
  channel_id: string;
  server_id: string;
  last_read_message_id: string;
  updated_at: Timestamp;
}

/** `messages.threads`: one thread per starter message (MSG-13). */
export interface ThreadsTable {
  id: string;
  server_id: string;
  channel_id: string;
  message_id: string;
  name: string;
  creator_id: string;
  created_at: Timestamp;
}

/** Every table of the messages schema. */
export interface MessagesTables {
  messages: MessagesTable;
  attachments: AttachmentsTable;
  attachment_blob_deletions: AttachmentBlobDeletionsTable;
  reactions: ReactionsTable;
  read_states: ReadStatesTable;
  threads: ThreadsTable;
}
