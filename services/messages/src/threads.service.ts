import { writeOutbox } from "@beep/bus";
import { assertStorableText, assertVisibleText, BeepError } from "@beep/errors";
import { isSnowflake, newId } from "@beep/ids";
import { PERMISSIONS } from "@beep/servers/permissions";
import type { Kysely } from "kysely";
import { hasBits, type MessageAccess, notFound } from "./message-access.ts";
import type { MessagesRepository } from "./messages.repository.ts";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import type { MessagesTables } from "./messages.tables.ts";
import type { ThreadsRepository, ThreadWithActivity } from "./threads.repository.ts";

/** Longest thread name, in characters. */
export const MAX_THREAD_NAME = 100;
/** Threads listed per channel at most. */
export const MAX_THREADS_LISTED = 100;
/** Messages whose threads one batch read may ask for. */
export const MAX_THREAD_LOOKUPS = 200;

const READ = PERMISSIONS.VIEW_CHANNEL | PERMISSIONS.READ_MESSAGE_HISTORY;

/** A thread in the API and in `thread.created|updated` events. */
export interface ThreadView {
  id: string;
  serverId: string;
  channelId: string;
  messageId: string;
  name: string;
  creatorId: string;
  createdAt: string;
  messageCount: number;
  lastMessageAt: string | null;
}

/** The view of a thread row. */
export function threadView(row: ThreadWithActivity): ThreadView {
  return {
    id: row.id,
    serverId: row.server_id,
    channelId: row.channel_id,
    messageId: row.message_id,
    name: row.name,
    creatorId: row.creator_id,
    createdAt: row.created_at.toISOString(),
    messageCount: row.message_count,
    lastMessageAt: row.last_message_at?.toISOString() ?? null,
  };
}

/**
 * Threads (MSG-13). A thread belongs to its parent channel: every read and write checks the caller's
 * bits in that channel (a member without VIEW_CHANNEL there sees no thread of it). Starting one needs
 * CREATE_PUBLIC_THREADS; sending into one SEND_MESSAGES_IN_THREADS (MessagesService.send).
 */
export class ThreadsService {
  constructor(
    private readonly deps: {
      db: Kysely<MessagesTables>;
      repo: MessagesRepository;
      threads: ThreadsRepository;
      access: MessageAccess;
    },
  ) {}

  /** Starts the thread of a top-level message; CONFLICT when it has one. */
  async start(userId: string, messageId: string, rawName: string): Promise<ThreadView> {
    const { row } = await this.deps.access.message(
      userId,
      messageId,
      READ | PERMISSIONS.CREATE_PUBLIC_THREADS,
    );
    const name = threadName(rawName);
    if (row.thread_id !== null) {
      throw new BeepError("BAD_USER_INPUT", "A thread starts from a message of the channel", {
        field: "messageId",
      });
    }
    return this.deps.db.transaction().execute(async (trx) => {
      const inserted = await this.deps.threads.insert(trx, {
        id: newId(),
        server_id: row.server_id,
        channel_id: row.channel_id,
        message_id: row.id,
        name,
        creator_id: userId,
        created_at: new Date(),
      });
      if (!inserted)
        throw new BeepError("CONFLICT", "This message already has a thread", { field: "messageId" });
      const thread = threadView({ ...inserted, message_count: 0, last_message_at: null });
      await writeOutbox(trx, MESSAGES_SCHEMA, [
        {
          type: "thread.created",
          payload: { serverId: thread.serverId, channelId: thread.channelId, thread },
        },
      ]);
      return thread;
    });
  }

  /**
   * Renames a thread: its creator may, and so may whoever holds MANAGE_CHANNELS in the parent channel
   * (Discord's MANAGE_THREADS, which ROLE-2 does not have). A thread of a channel the caller cannot read is
   * NOT_FOUND. Members of the channel see `thread.updated`; the same name again changes and emits nothing.
   */
  async rename(userId: string, threadId: string, rawName: string): Promise<ThreadView> {
    if (!isSnowflake(threadId)) throw notFound("thread", "threadId");
    const thread = await this.deps.threads.find(this.deps.db, threadId);
    if (!thread) throw notFound("thread", "threadId");
    const access = await this.deps.access.channel(userId, thread.channel_id, READ).catch((error: unknown) => {
      throw error instanceof BeepError && error.code === "NOT_FOUND" ? notFound("thread", "threadId") : error;
    });
    if (thread.creator_id !== userId && !hasBits(access.bits, PERMISSIONS.MANAGE_CHANNELS)) {
      throw new BeepError("FORBIDDEN", "Only its creator or a channel manager renames a thread");
    }
    const name = threadName(rawName);
    const changed = thread.name !== name;
    return this.deps.db.transaction().execute(async (trx) => {
      if (changed && !(await this.deps.threads.rename(trx, threadId, name)))
        throw notFound("thread", "threadId");
      const [found] = await this.deps.threads.withActivity(trx, [threadId]);
      if (!found) throw notFound("thread", "threadId");
      const view = threadView(found);
      if (changed) {
        await writeOutbox(trx, MESSAGES_SCHEMA, [
          {
            type: "thread.updated",
            payload: { serverId: view.serverId, channelId: view.channelId, thread: view },
          },
        ]);
      }
      return view;
    });
  }

  /** The channel's threads, most recently active first. */
  async list(userId: string, channelId: string): Promise<ThreadView[]> {
    await this.deps.access.channel(userId, channelId, READ);
    return (await this.deps.threads.inChannel(this.deps.db, channelId, MAX_THREADS_LISTED)).map(threadView);
  }

  /** The threads started from these messages, where the caller may read them (others are absent). */
  async ofMessages(userId: string, messageIds: readonly string[]): Promise<ThreadView[]> {
    const ids = [...new Set(messageIds)].filter((id) => /^\d{1,19}$/.test(id));
    if (ids.length > MAX_THREAD_LOOKUPS) {
      throw new BeepError("BAD_USER_INPUT", `At most ${MAX_THREAD_LOOKUPS} messages at once`, {
        field: "messageIds",
      });
    }
    const found = await this.deps.threads.ofMessages(this.deps.db, ids);
    return (await this.deps.access.readable(userId, found)).map(threadView);
  }

  /** The thread `threadId` of `channelId`, else NOT_FOUND on threadId (the channel is already checked). */
  async inChannel(threadId: string, channelId: string): Promise<void> {
    if (!isSnowflake(threadId)) throw notFound("thread", "threadId");
    const thread = await this.deps.threads.find(this.deps.db, threadId);
    if (!thread || thread.channel_id !== channelId) throw notFound("thread", "threadId");
  }
}

/** A trimmed thread name of 1 to {@link MAX_THREAD_NAME} characters, else BAD_USER_INPUT on `name`. */
function threadName(raw: unknown): string {
  const name = typeof raw === "string" ? raw.trim() : "";
  if (name.length === 0 || [...name].length > MAX_THREAD_NAME) {
    throw new BeepError("BAD_USER_INPUT", `A thread name has 1 to ${MAX_THREAD_NAME} characters`, {
      field: "name",
    });
  }
  assertStorableText(name, "name");
  assertVisibleText(name, "name", "A thread name");
  return name;
}
