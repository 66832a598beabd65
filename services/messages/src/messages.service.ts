import type { Bus } from "@beep/bus";
import { writeOutbox } from "@beep/bus";
import { assertStorableText, BeepError } from "@beep/errors";
import { isSnowflake, newId } from "@beep/ids";
import { PERMISSIONS } from "@beep/servers/permissions";
import type { Kysely } from "kysely";
import { type AttachmentRow, AttachmentsRepository } from "./attachments.repository.ts";
import { checkAttachmentIds } from "./attachments.service.ts";
import type { ChannelAccess, ChannelAccessCache, ChannelDirectory } from "./channel-access.ts";
import { NO_MENTIONS, resolveMentions, type UsernameLookup } from "./mentions.ts";
import { type MessageRecord, messageEventView, messageRecord } from "./message-views.ts";
import type { MessageRow, MessagesRepository } from "./messages.repository.ts";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import type { MentionSet, MessagesTables } from "./messages.tables.ts";
import type { SendBatcher } from "./send-batcher.ts";
import type { ThreadsService } from "./threads.service.ts";
import { TypingThrottle } from "./typing-throttle.ts";

/** Who is calling, and how to look usernames up on their behalf. */
export interface MessagesCaller {
  userId: string;
  /** Username lookups act for the caller (users' UserDirectoryService with their token). */
  findUsers: UsernameLookup;
}

/** Threads, as the send and history paths check them (MSG-13). */
export interface MessageExtras {
  threads: Pick<ThreadsService, "inChannel">;
}

/** Longest message, in characters (MSG-1). */
export const MAX_CONTENT_CHARS = 4000;
/** Longest client nonce. */
export const MAX_NONCE_CHARS = 64;
/** Pins per channel at most (MSG-4). */
export const MAX_PINS_PER_CHANNEL = 50;
/** History page size: default and maximum (MSG-5). */
export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 100;

const VIEW = PERMISSIONS.VIEW_CHANNEL;
const SEND = PERMISSIONS.SEND_MESSAGES;
const HISTORY = PERMISSIONS.READ_MESSAGE_HISTORY;

/** A page of history, newest first. */
export interface MessagePage {
  messages: MessageRecord[];
  hasMore: boolean;
}

/** History cursor: at most one of the three. */
export interface PageQuery {
  before?: string;
  after?: string;
  around?: string;
  limit?: number;
  /** A thread of the channel: its history instead of the channel's (MSG-13). */
  threadId?: string;
}

function notFound(what: "channel" | "message", field: string): BeepError {
  return new BeepError("NOT_FOUND", `No such ${what}`, { field });
}

function has(bits: bigint, needed: bigint): boolean {
  return (bits & needed) === needed;
}

function checkContent(content: string, mayBeEmpty = false): string {
  if (mayBeEmpty && content === "") return content;
  if (content.trim().length === 0) {
    throw new BeepError("BAD_USER_INPUT", "A message needs some text", { field: "content" });
  }
  // Why code points: the limit is in characters as users count them, not UTF-16 units. A string has no
  // more code points than UTF-16 units, so only a long one needs counting.
  if (content.length > MAX_CONTENT_CHARS && [...content].length > MAX_CONTENT_CHARS) {
    throw new BeepError("BAD_USER_INPUT", `At most ${MAX_CONTENT_CHARS} characters`, { field: "content" });
  }
  assertStorableText(content, "content");
  return content;
}

function checkId(value: string, field: string, what: "channel" | "message"): string {
  if (!isSnowflake(value)) throw notFound(what, field);
  return value;
}

function cursor(value: string | undefined, field: string): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (!/^\d{1,20}$/.test(value) || BigInt(value) >= 1n << 63n) {
    throw new BeepError("BAD_USER_INPUT", "A cursor is a message id", { field });
  }
  return value;
}

/**
 * Messages (MSG-1 … MSG-6, MSG-10). Every operation checks the caller's bits in the channel (servers'
 * engine through {@link ChannelAccessCache}); a channel or message the caller cannot view is NOT_FOUND.
 * Writes commit state and their event (outbox) in one transaction; sends go through the group-commit
 * {@link SendBatcher}.
 */
export class MessagesService {
  private readonly typing: TypingThrottle;
  private readonly attachments: AttachmentsRepository;

  constructor(
    private readonly deps: {
      db: Kysely<MessagesTables>;
      repo: MessagesRepository;
      access: ChannelAccessCache;
      directory: ChannelDirectory;
      batcher: SendBatcher;
      bus?: Bus;
      typing?: TypingThrottle;
      attachments?: AttachmentsRepository;
      /** Called after a commit queued attachment blobs for deletion (wakes the sweeper). */
      blobsQueued?: () => void;
      extras?: MessageExtras;
    },
  ) {
    this.typing = deps.typing ?? new TypingThrottle();
    this.attachments = deps.attachments ?? new AttachmentsRepository();
  }

  /** MSG-1: sends (or, for a repeated nonce, returns the first) message. */
  async send(
    caller: MessagesCaller,
    input: {
      channelId: string;
      content: string;
      nonce?: string;
      replyToId?: string;
      threadId?: string;
      attachmentIds?: string[];
    },
  ): Promise<MessageRecord> {
    const channelId = checkId(input.channelId, "channelId", "channel");
    const threadId = input.threadId === undefined || input.threadId === "" ? null : input.threadId;
    const attachmentIds = checkAttachmentIds(input.attachmentIds);
    // A thread follows its parent channel's permissions, with SEND_MESSAGES_IN_THREADS for sending.
    let needed = threadId === null ? VIEW | SEND : VIEW | PERMISSIONS.SEND_MESSAGES_IN_THREADS;
    if (attachmentIds.length > 0) needed |= PERMISSIONS.ATTACH_FILES;
    const access = await this.require(caller.userId, channelId, needed, "send messages");
    if (threadId !== null) await this.thread(threadId, channelId);
    // A message may be only attachments (MSG-8).
    const content = checkContent(input.content, attachmentIds.length > 0);
    const nonce = input.nonce === undefined || input.nonce === "" ? null : input.nonce;
    if (nonce !== null && nonce.length > MAX_NONCE_CHARS) {
      throw new BeepError("BAD_USER_INPUT", `A nonce has at most ${MAX_NONCE_CHARS} characters`, {
        field: "nonce",
      });
    }
    if (nonce !== null) assertStorableText(nonce, "nonce");
    let replyToId: string | null = null;
    if (input.replyToId !== undefined && input.replyToId !== "") {
      if (!isSnowflake(input.replyToId)) {
        throw new BeepError("BAD_USER_INPUT", "Reply to a message of this channel", { field: "replyToId" });
      }
      replyToId = input.replyToId;
    }
    const mentions = await this.mentions(caller, access, channelId, content);
    const { row, created } = await this.deps.batcher.send({
      serverId: access.serverId,
      channelId,
      authorId: caller.userId,
      content,
      nonce,
      replyToId,
      threadId,
      mentions,
      attachmentIds,
    });
    // A message this send created holds exactly the uploads it named: none named, no attachment query
    // on the hot path. A nonce replay returns the first send's message, whatever it holds.
    if (created && attachmentIds.length === 0) return (await this.records([row], []))[0]!;
    return this.record(row);
  }

  /** MSG-2: edits the caller's own message; mentions are resolved again. */
  async edit(caller: MessagesCaller, messageId: string, rawContent: string): Promise<MessageRecord> {
    const { access, row: found } = await this.visible(caller.userId, messageId, VIEW);
    if (found.author_id !== caller.userId) throw new BeepError("FORBIDDEN", "Only the author can edit");
    const attached = await this.attachments.ofMessages(this.deps.db, [found.id]);
    const content = checkContent(rawContent, attached.length > 0);
    const mentions = await this.mentions(caller, access, found.channel_id, content);
    const row = await this.deps.db.transaction().execute(async (trx) => {
      const current = await this.deps.repo.findForUpdate(trx, found.id);
      if (!current) throw notFound("message", "messageId");
      const updated = await this.deps.repo.updateContent(trx, found.id, content, mentions);
      const replied = await this.deps.repo.findMany(trx, updated.reply_to_id ? [updated.reply_to_id] : []);
      const attachments = await this.attachments.ofMessages(trx, [found.id]);
      await writeOutbox(trx, MESSAGES_SCHEMA, [
        {
          type: "message.updated",
          payload: {
            serverId: updated.server_id,
            channelId: updated.channel_id,
            message: messageEventView(updated, new Map(replied.map((r) => [r.id, r])), attachments),
          },
        },
      ]);
      return updated;
    });
    return this.record(row);
  }

  /** MSG-2: deletes the caller's own message, or anyone's with MANAGE_MESSAGES. */
  async delete(caller: MessagesCaller, messageId: string): Promise<{ messageId: string; channelId: string }> {
    const { access, row } = await this.visible(caller.userId, messageId, VIEW);
    if (row.author_id !== caller.userId && !has(access.bits, PERMISSIONS.MANAGE_MESSAGES)) {
      throw new BeepError("FORBIDDEN", "Deleting others' messages needs MANAGE_MESSAGES");
    }
    await this.deps.db.transaction().execute(async (trx) => {
      const current = await this.deps.repo.findForUpdate(trx, row.id);
      if (!current) throw notFound("message", "messageId");
      await this.deps.repo.delete(trx, row.id);
      await this.attachments.discardForMessages(trx, [row.id]);
      await writeOutbox(trx, MESSAGES_SCHEMA, [
        {
          type: "message.deleted",
          payload: { serverId: row.server_id, channelId: row.channel_id, messageId: row.id },
        },
      ]);
    });
    this.deps.blobsQueued?.();
    return { messageId: row.id, channelId: row.channel_id };
  }

  /** MSG-4: pins (PIN_MESSAGES; 50 per channel at most). Pinning a pinned message changes nothing. */
  async pin(caller: MessagesCaller, messageId: string): Promise<MessageRecord> {
    return this.setPinned(caller, messageId, true);
  }

  /** MSG-4: unpins (PIN_MESSAGES). Unpinning an unpinned message changes nothing. */
  async unpin(caller: MessagesCaller, messageId: string): Promise<MessageRecord> {
    return this.setPinned(caller, messageId, false);
  }

  /** One message (VIEW_CHANNEL + READ_MESSAGE_HISTORY). */
  async get(caller: MessagesCaller, messageId: string): Promise<MessageRecord> {
    const { row } = await this.visible(caller.userId, messageId, VIEW | HISTORY);
    return this.record(row);
  }

  /** MSG-4: the channel's pins, most recently pinned first. */
  async pins(caller: MessagesCaller, channelId: string): Promise<MessageRecord[]> {
    checkId(channelId, "channelId", "channel");
    await this.require(caller.userId, channelId, VIEW | HISTORY, "read message history");
    return this.records(await this.deps.repo.pins(this.deps.db, channelId));
  }

  /**
   * MSG-5: history newest first. `before`/`after` exclude the cursor; `around` includes it with up to
   * half the page on each side. `hasMore`: more messages exist past the page's far end (for `after`:
   * newer ones; for `around`: on either side).
   */
  async list(caller: MessagesCaller, channelId: string, query: PageQuery): Promise<MessagePage> {
    checkId(channelId, "channelId", "channel");
    const before = cursor(query.before, "before");
    const after = cursor(query.after, "after");
    const around = cursor(query.around, "around");
    if ([before, after, around].filter((c) => c !== undefined).length > 1) {
      throw new BeepError("BAD_USER_INPUT", "Give at most one of before, after and around", {
        field: "before",
      });
    }
    const limit = query.limit === undefined || query.limit === 0 ? DEFAULT_PAGE : query.limit;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new BeepError("BAD_USER_INPUT", `A page holds 1 to ${MAX_PAGE} messages`, { field: "limit" });
    }
    await this.require(caller.userId, channelId, VIEW | HISTORY, "read message history");
    const threadId = query.threadId === undefined || query.threadId === "" ? undefined : query.threadId;
    if (threadId !== undefined) await this.thread(threadId, channelId);
    const { db } = this.deps;
    const page = this.deps.repo.page.bind(this.deps.repo);
    const repo = {
      page: (
        d: typeof db,
        channel: string,
        direction: "older" | "newer",
        bound: { id: string; inclusive: boolean } | undefined,
        limit: number,
      ) => page(d, channel, direction, bound, limit, threadId),
    };
    if (after !== undefined) {
      const rows = await repo.page(db, channelId, "newer", { id: after, inclusive: false }, limit + 1);
      const hasMore = rows.length > limit;
      return { messages: await this.records(rows.slice(0, limit).reverse()), hasMore };
    }
    if (around !== undefined) {
      const newerWanted = Math.floor(limit / 2);
      const olderWanted = limit - newerWanted;
      const [newer, older] = await Promise.all([
        repo.page(db, channelId, "newer", { id: around, inclusive: false }, newerWanted + 1),
        repo.page(db, channelId, "older", { id: around, inclusive: true }, olderWanted + 1),
      ]);
      const hasMore = newer.length > newerWanted || older.length > olderWanted;
      const rows = [...newer.slice(0, newerWanted).reverse(), ...older.slice(0, olderWanted)];
      return { messages: await this.records(rows), hasMore };
    }
    const bound = before === undefined ? undefined : { id: before, inclusive: false };
    const rows = await repo.page(db, channelId, "older", bound, limit + 1);
    return { messages: await this.records(rows.slice(0, limit)), hasMore: rows.length > limit };
  }

  /** MSG-10: broadcasts `typing.started` (ephemeral, never stored), at most once per throttle window. */
  async startTyping(caller: MessagesCaller, channelId: string): Promise<{ expiresAt: string }> {
    checkId(channelId, "channelId", "channel");
    const access = await this.require(caller.userId, channelId, VIEW | SEND, "send messages");
    const { broadcast, expiresAt } = this.typing.hit(caller.userId, channelId);
    if (broadcast && this.deps.bus) {
      await this.deps.bus.broadcast({
        id: newId(),
        type: "typing.started",
        occurredAt: new Date().toISOString(),
        payload: {
          serverId: access.serverId,
          channelId,
          userId: caller.userId,
          expiresAt: expiresAt.toISOString(),
        },
      });
    }
    return { expiresAt: expiresAt.toISOString() };
  }

  private async setPinned(
    caller: MessagesCaller,
    messageId: string,
    pinned: boolean,
  ): Promise<MessageRecord> {
    const { access, row } = await this.visible(caller.userId, messageId, VIEW);
    if (!has(access.bits, PERMISSIONS.PIN_MESSAGES)) {
      throw new BeepError("FORBIDDEN", "Pinning needs PIN_MESSAGES");
    }
    const updated = await this.deps.db.transaction().execute(async (trx) => {
      // Why the channel lock: two pins at once must not both pass the count check.
      await this.deps.repo.lockChannels(trx, [row.channel_id]);
      const current = await this.deps.repo.findForUpdate(trx, row.id);
      if (!current) throw notFound("message", "messageId");
      if ((current.pinned_at !== null) === pinned) return current;
      if (pinned && (await this.deps.repo.countPins(trx, row.channel_id)) >= MAX_PINS_PER_CHANNEL) {
        throw new BeepError("LIMIT_EXCEEDED", `A channel holds at most ${MAX_PINS_PER_CHANNEL} pins`);
      }
      const next = await this.deps.repo.setPinned(trx, row.id, pinned ? caller.userId : null);
      await writeOutbox(trx, MESSAGES_SCHEMA, [
        {
          type: pinned ? "message.pinned" : "message.unpinned",
          payload: {
            serverId: next.server_id,
            channelId: next.channel_id,
            messageId: next.id,
            userId: caller.userId,
          },
        },
      ]);
      return next;
    });
    return this.record(updated);
  }

  private async thread(threadId: string, channelId: string): Promise<void> {
    if (!this.deps.extras) throw new BeepError("NOT_FOUND", "No such thread", { field: "threadId" });
    await this.deps.extras.threads.inChannel(threadId, channelId);
  }

  /** The caller's access to the channel holding every bit of `needed`; NOT_FOUND without VIEW_CHANNEL. */
  private async require(
    userId: string,
    channelId: string,
    needed: bigint,
    action: string,
  ): Promise<ChannelAccess> {
    const access = await this.deps.access.access(userId, channelId);
    if (!access || !has(access.bits, VIEW) || access.channelType === "folder")
      throw notFound("channel", "channelId");
    if (!has(access.bits, needed)) throw new BeepError("FORBIDDEN", `Missing permission to ${action}`);
    return access;
  }

  /** A message the caller can see (its channel with `needed`), else NOT_FOUND (FORBIDDEN past VIEW_CHANNEL). */
  private async visible(
    userId: string,
    messageId: string,
    needed: bigint,
  ): Promise<{ access: ChannelAccess; row: MessageRow }> {
    checkId(messageId, "messageId", "message");
    const row = await this.deps.repo.find(this.deps.db, messageId);
    if (!row) throw notFound("message", "messageId");
    const access = await this.deps.access.access(userId, row.channel_id);
    if (!access || !has(access.bits, VIEW)) throw notFound("message", "messageId");
    if (!has(access.bits, needed)) throw new BeepError("FORBIDDEN", "Missing permission for this message");
    return { access, row };
  }

  private async mentions(
    caller: MessagesCaller,
    access: ChannelAccess,
    channelId: string,
    content: string,
  ): Promise<MentionSet> {
    if (!/[@#<]/.test(content)) return NO_MENTIONS;
    return resolveMentions({
      content,
      serverId: access.serverId,
      channelId,
      senderId: caller.userId,
      mayMentionEveryone: has(access.bits, PERMISSIONS.MENTION_EVERYONE),
      directory: this.deps.directory,
      findUsers: caller.findUsers,
    });
  }

  private async record(row: MessageRow): Promise<MessageRecord> {
    return (await this.records([row]))[0]!;
  }

  /** API records with their reply references and attachments, each loaded in one query (attachments when not known). */
  private async records(
    rows: readonly MessageRow[],
    knownAttachments?: readonly AttachmentRow[],
  ): Promise<MessageRecord[]> {
    const replyIds = rows.flatMap((row) => row.reply_to_id ?? []);
    const [repliedRows, attachments] = await Promise.all([
      this.deps.repo.findMany(this.deps.db, replyIds),
      knownAttachments ??
        this.attachments.ofMessages(
          this.deps.db,
          rows.map((row) => row.id),
        ),
    ]);
    const replied = new Map(repliedRows.map((r) => [r.id, r]));
    return rows.map((row) => messageRecord(row, replied, attachments));
  }
}
