import type { OutboxEventInput } from "@beep/bus";
import type { Transaction } from "kysely";
import type { MessageRow } from "./messages.repository.ts";
import type { MessagesTables } from "./messages.tables.ts";
import type { ReadStatesRepository } from "./read-states.repository.ts";
import type { ThreadsRepository } from "./threads.repository.ts";
import { threadView } from "./threads.service.ts";

/**
 * What a committed batch of sends changes besides the messages, in the batch's own transaction: the
 * events to write to the outbox with its `message.created` events.
 */
export type SendBatchExtras = (
  trx: Transaction<MessagesTables>,
  created: readonly MessageRow[],
) => Promise<OutboxEventInput[]>;

/**
 * Read states and threads after a batch of sends (MSG-11, MSG-13), as statements of the batch's
 * transaction (group commit stays one commit per batch):
 * - each author's read position in the channel moves to their newest message of the batch, in one
 *   upsert; a move emits `read_state.updated`. The channels' locks are held, so the only messages
 *   after it are later ones of the same batch: its mention count comes from those (direct and
 *   @everyone/@here; role mentions are counted on the next read, roles living in servers).
 * - each thread sent into emits `thread.updated` with its new count and last activity (one query).
 */
export function sendBatchExtras(deps: {
  readStates: ReadStatesRepository;
  threads: ThreadsRepository;
}): SendBatchExtras {
  return async (trx, created) => {
    const events: OutboxEventInput[] = [];
    const newest = new Map<string, MessageRow>();
    for (const row of created) {
      if (row.thread_id !== null) continue;
      const key = `${row.author_id}:${row.channel_id}`;
      const seen = newest.get(key);
      if (!seen || BigInt(seen.id) < BigInt(row.id)) newest.set(key, row);
    }
    const moved = await deps.readStates.advanceMany(
      trx,
      [...newest.values()].map((row) => ({
        userId: row.author_id,
        serverId: row.server_id,
        channelId: row.channel_id,
        messageId: row.id,
      })),
    );
    for (const position of moved) {
      const mentionCount = created.filter(
        (row) =>
          row.channel_id === position.channelId &&
          row.thread_id === null &&
          row.author_id !== position.userId &&
          BigInt(row.id) > BigInt(position.messageId) &&
          (row.mentions.everyone === true || (row.mentions.userIds ?? []).includes(position.userId)),
      ).length;
      events.push({
        type: "read_state.updated",
        payload: {
          userId: position.userId,
          serverId: position.serverId,
          channelId: position.channelId,
          lastReadMessageId: position.messageId,
          mentionCount,
        },
      });
    }
    const threadIds = [...new Set(created.flatMap((row) => row.thread_id ?? []))];
    for (const found of await deps.threads.withActivity(trx, threadIds)) {
      const thread = threadView(found);
      events.push({
        type: "thread.updated",
        payload: { serverId: thread.serverId, channelId: thread.channelId, thread },
      });
    }
    return events;
  };
}
