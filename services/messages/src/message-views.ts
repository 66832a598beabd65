import { type AttachmentView, attachmentView } from "./attachment-views.ts";
import type { AttachmentRow } from "./attachments.repository.ts";
import type { MessageRow } from "./messages.repository.ts";
import type { MentionSet } from "./messages.tables.ts";

/** A message in bus events (exactly the realtime contract's MessageView). */
export interface MessageView {
  id: string;
  serverId: string;
  channelId: string;
  threadId: string | null;
  authorId: string;
  content: string;
  nonce: string | null;
  createdAt: string;
  editedAt: string | null;
  replyToId: string | null;
  pinned: boolean;
  mentions: MentionSet;
  embeds: unknown[];
  /** Files attached when it was sent, in upload order (MSG-8). */
  attachments: AttachmentView[];
}

/** The message a reply points at, or a tombstone once it is deleted (MSG-3). */
export type ReplyReference =
  | { id: string; deleted: false; authorId: string; content: string }
  | { id: string; deleted: true };

/** A message as the API returns it: the view plus pin details and the reply reference. */
export interface MessageRecord extends MessageView {
  pinnedAt: string | null;
  pinnedBy: string | null;
  replyTo: ReplyReference | null;
}

/** The contract's MessageView of a row with its attachment rows (those of other messages are ignored). */
export function messageView(row: MessageRow, attachments: readonly AttachmentRow[] = []): MessageView {
  return {
    id: row.id,
    serverId: row.server_id,
    channelId: row.channel_id,
    threadId: row.thread_id,
    authorId: row.author_id,
    content: row.content,
    nonce: row.nonce,
    createdAt: row.created_at.toISOString(),
    editedAt: row.edited_at?.toISOString() ?? null,
    replyToId: row.reply_to_id,
    pinned: row.pinned_at !== null,
    mentions: {
      userIds: row.mentions.userIds ?? [],
      roleIds: row.mentions.roleIds ?? [],
      channelIds: row.mentions.channelIds ?? [],
      everyone: row.mentions.everyone === true,
    },
    embeds: Array.isArray(row.embeds) ? row.embeds : [],
    attachments: attachments.filter((a) => a.message_id === row.id).map(attachmentView),
  };
}

/** The API record of a row; `replied` holds the rows its reply may point at (absent = deleted). */
export function messageRecord(
  row: MessageRow,
  replied: ReadonlyMap<string, MessageRow>,
  attachments: readonly AttachmentRow[] = [],
): MessageRecord {
  return {
    ...messageView(row, attachments),
    pinnedAt: row.pinned_at?.toISOString() ?? null,
    pinnedBy: row.pinned_by,
    replyTo: replyReference(row, replied),
  };
}

/** The reference of a reply (the original, or a tombstone once it is deleted); null for other messages. */
function replyReference(row: MessageRow, replied: ReadonlyMap<string, MessageRow>): ReplyReference | null {
  if (row.reply_to_id === null) return null;
  const original = replied.get(row.reply_to_id);
  return original
    ? { id: original.id, deleted: false, authorId: original.author_id, content: original.content }
    : { id: row.reply_to_id, deleted: true };
}

/**
 * The MessageView of a bus event plus, additively, the reply reference (`replyTo`, as the API returns it),
 * so stream clients can render a reply without fetching the original.
 */
export function messageEventView(
  row: MessageRow,
  replied: ReadonlyMap<string, MessageRow>,
  attachments: readonly AttachmentRow[] = [],
): MessageView & { replyTo: ReplyReference | null } {
  return { ...messageView(row, attachments), replyTo: replyReference(row, replied) };
}
