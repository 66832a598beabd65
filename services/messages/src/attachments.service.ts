import type { BlobStore } from "@beep/blob";
import { BeepError } from "@beep/errors";
import { isSnowflake, newId } from "@beep/ids";
import type { Logger } from "@beep/observability";
import { PERMISSIONS } from "@beep/servers/permissions";
import type { Kysely } from "kysely";
import { analyseAttachment } from "./attachment-content.ts";
import { type AttachmentView, attachmentView } from "./attachment-views.ts";
import type { AttachmentsRepository } from "./attachments.repository.ts";
import type { ChannelAccess, ChannelAccessCache } from "./channel-access.ts";
import type { MessagesTables } from "./messages.tables.ts";

/** Attachments one message may carry at most (MSG-8). */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;
/** Longest file name kept, in characters. */
export const MAX_FILENAME_CHARS = 255;

const VIEW = PERMISSIONS.VIEW_CHANNEL;
const SEND = PERMISSIONS.SEND_MESSAGES;
const ATTACH = PERMISSIONS.ATTACH_FILES;
const HISTORY = PERMISSIONS.READ_MESSAGE_HISTORY;

/** Where the gateway streams an attachment from. */
export interface OpenedAttachment {
  blobKey: string;
  contentType: string;
  filename: string;
  size: number;
}

function has(bits: bigint, needed: bigint): boolean {
  return (bits & needed) === needed;
}

const notFound = (field: string) => new BeepError("NOT_FOUND", "No such attachment", { field });

/**
 * The file name as stored and served: the last path segment, without control characters or quotes
 * (it goes into Content-Disposition), 1–255 characters.
 */
export function cleanFilename(raw: string): string {
  const last = raw.split(/[/\\]/).pop() ?? "";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point.
  const cleaned = last.replace(/[\u0000-\u001f\u007f"]/g, "").trim();
  if (cleaned === "" || cleaned === "." || cleaned === "..") {
    throw new BeepError("BAD_USER_INPUT", "A file name is required", { field: "filename" });
  }
  if ([...cleaned].length > MAX_FILENAME_CHARS) {
    throw new BeepError("BAD_USER_INPUT", `A file name has at most ${MAX_FILENAME_CHARS} characters`, {
      field: "filename",
    });
  }
  return cleaned;
}

/**
 * Checks a send's attachment ids before the write path (format, count, duplicates); the ownership
 * and pending checks run under row locks in the send transaction (SendBatcher).
 */
export function checkAttachmentIds(ids: readonly string[] | undefined): string[] {
  const list = [...(ids ?? [])];
  if (list.length > MAX_ATTACHMENTS_PER_MESSAGE) {
    throw new BeepError("BAD_USER_INPUT", `At most ${MAX_ATTACHMENTS_PER_MESSAGE} attachments`, {
      field: "attachmentIds",
    });
  }
  if (new Set(list).size !== list.length) {
    throw new BeepError("BAD_USER_INPUT", "Each attachment at most once", { field: "attachmentIds" });
  }
  if (!list.every(isSnowflake)) {
    throw new BeepError("BAD_USER_INPUT", "Attach your own uploads to this channel", {
      field: "attachmentIds",
    });
  }
  return list;
}

/**
 * Uploads (pending attachments), download authorization and the sweeper of expired uploads and of
 * blobs whose rows were deleted (MSG-8). Permissions come from servers' engine via the channel access
 * cache, like every messages operation.
 */
export class AttachmentsService {
  constructor(
    private readonly deps: {
      db: Kysely<MessagesTables>;
      repo: AttachmentsRepository;
      access: ChannelAccessCache;
      blobs: BlobStore;
      maxBytes: number;
      pendingTtlMs: number;
      logger: Logger;
    },
  ) {}

  /** Largest accepted upload. */
  get maxBytes(): number {
    return this.deps.maxBytes;
  }

  /** VIEW_CHANNEL + SEND_MESSAGES + ATTACH_FILES in the channel, else NOT_FOUND / FORBIDDEN. */
  async checkUpload(userId: string, channelId: string): Promise<ChannelAccess> {
    if (!isSnowflake(channelId)) throw new BeepError("NOT_FOUND", "No such channel", { field: "channelId" });
    const access = await this.deps.access.access(userId, channelId);
    if (!access || !has(access.bits, VIEW) || access.channelType === "folder") {
      throw new BeepError("NOT_FOUND", "No such channel", { field: "channelId" });
    }
    if (!has(access.bits, SEND | ATTACH)) {
      throw new BeepError("FORBIDDEN", "Missing permission to attach files (SEND_MESSAGES + ATTACH_FILES)");
    }
    return access;
  }

  /** Stores a pending upload: blobs first, then the row (a failed insert removes the blobs). */
  async upload(
    userId: string,
    input: { channelId: string; filename: string; data: Uint8Array },
  ): Promise<AttachmentView> {
    const access = await this.checkUpload(userId, input.channelId);
    const filename = cleanFilename(input.filename);
    if (input.data.length > this.deps.maxBytes) {
      throw new BeepError("LIMIT_EXCEEDED", `An attachment must be at most ${this.deps.maxBytes} bytes`, {
        field: "data",
      });
    }
    const content = await analyseAttachment(input.data);
    const id = newId();
    const blobKey = `attachments/${input.channelId}/${id}/original`;
    const thumbnailKey = content.thumbnail ? `attachments/${input.channelId}/${id}/thumbnail` : null;
    await this.deps.blobs.put(blobKey, Buffer.from(input.data), content.contentType);
    try {
      if (thumbnailKey && content.thumbnail) {
        await this.deps.blobs.put(thumbnailKey, content.thumbnail, "image/webp");
      }
      const row = await this.deps.repo.insert(this.deps.db, {
        id,
        uploader_id: userId,
        server_id: access.serverId,
        channel_id: input.channelId,
        filename,
        content_type: content.contentType,
        size: input.data.length,
        width: content.width,
        height: content.height,
        blob_key: blobKey,
        thumbnail_key: thumbnailKey,
      });
      return attachmentView(row);
    } catch (error) {
      await Promise.allSettled(
        [blobKey, thumbnailKey].flatMap((key) => (key ? this.deps.blobs.delete(key) : [])),
      );
      throw error;
    }
  }

  /**
   * The blob to stream: for an attached file, to callers with VIEW_CHANNEL + READ_MESSAGE_HISTORY on
   * its message's channel; for a pending upload, to its uploader only. Everyone else: NOT_FOUND.
   */
  async open(userId: string, attachmentId: string, thumbnail: boolean): Promise<OpenedAttachment> {
    if (!isSnowflake(attachmentId)) throw notFound("attachmentId");
    const row = await this.deps.repo.find(this.deps.db, attachmentId);
    if (!row) throw notFound("attachmentId");
    if (row.message_id === null) {
      if (row.uploader_id !== userId) throw notFound("attachmentId");
    } else {
      const access = await this.deps.access.access(userId, row.channel_id);
      if (!access || !has(access.bits, VIEW | HISTORY)) throw notFound("attachmentId");
    }
    if (thumbnail) {
      if (row.thumbnail_key === null) throw notFound("thumbnail");
      const info = await this.deps.blobs.head(row.thumbnail_key);
      if (!info) throw notFound("thumbnail");
      return {
        blobKey: row.thumbnail_key,
        contentType: "image/webp",
        filename: row.filename,
        size: info.size,
      };
    }
    return {
      blobKey: row.blob_key,
      contentType: row.content_type,
      filename: row.filename,
      size: Number(row.size),
    };
  }

  /**
   * One sweep: pending uploads older than the TTL lose their rows (their blobs are queued), then queued
   * blobs are deleted. Safe on several processes at once (deleting a blob twice is a no-op).
   */
  async sweep(now = new Date()): Promise<{ expired: number; blobsDeleted: number }> {
    const expired = await this.deps.repo.discardPendingBefore(
      this.deps.db,
      new Date(now.getTime() - this.deps.pendingTtlMs),
    );
    let blobsDeleted = 0;
    for (;;) {
      const keys = await this.deps.repo.queuedBlobs(this.deps.db, 100);
      if (keys.length === 0) break;
      const done: string[] = [];
      for (const key of keys) {
        try {
          await this.deps.blobs.delete(key);
          done.push(key);
        } catch (error) {
          this.deps.logger.warn(
            { err: error, blobKey: key },
            "attachment blob deletion failed; retried later",
          );
        }
      }
      await this.deps.repo.dequeueBlobs(this.deps.db, done);
      blobsDeleted += done.length;
      if (done.length < keys.length) break;
    }
    return { expired, blobsDeleted };
  }
}
