import type { OutboxEventInput } from "@beep/bus";
import type { Transaction } from "kysely";
import type { MessageRow, ReadPositionMove } from "./messages.repository.ts";
import type { MessagesTables } from "./messages.tables.ts";
import type { ReadStatesRepository } from "./read-states.repository.ts";
import type { ThreadsRepository } from "./threads.repository.ts";
import { threadView } from "./threads.service.ts";

/** A read position a batch moves, with the mention count its `read_state.updated` event carries. */
export interface ReadStateMove extends ReadPositionMove {
  mentionCount: number;
}

/**
 * What a batch of sends changes besides the messages, in the batch's own transaction (group commit stays
 * one commit per batch), given its created rows in id order:
 * - `readMoves`: each author's read position in the channel moves to their newest message of the batch
 *   (MSG-11), each move announced by `read_state.updated`. Computed from the rows alone, before the
 *   insert, so the batch's insert statement applies them too: the channels' locks are held, so the only
 *   messages after a position are later ones of the same batch, and its mention count comes from those
 *   (direct and @everyone/@here; role mentions are counted on the next read, roles living in servers).
 * - `advance`: applies moves in a statement of their own (when the insert statement could not: a nonce
 *   duplicate or attachments in the batch) and returns the events of those that moved.
 * - `afterInsert`: what must read the inserted rows: each thread sent into emits `thread.updated` with
 *   its new count and last activity (one query; none for a batch without threads) (MSG-13). The
 *   one-statement path of plain sends (send-batcher.ts) relies on that: it does not call afterInsert.
 */
export interface SendBatchExtras {
  readMoves(created: readonly MessageRow[]): ReadStateMove[];
  advance(trx: Transaction<MessagesTables>, moves: readonly ReadStateMove[]): Promise<OutboxEventInput[]>;
  afterInsert(trx: Transaction<MessagesTables>, created: readonly MessageRow[]): Promise<OutboxEventInput[]>;
}

/** The `read_state.updated` event of a move. */
export function readStateEvent(move: ReadStateMove): OutboxEventInput {
  return {
    type: "read_state.updated",
    payload: {
      userId: move.userId,
      serverId: move.serverId,
      channelId: move.channelId,
      lastReadMessageId: move.messageId,
      mentionCount: move.mentionCount,
    },
  };
}

/** Read states and threads after a batch of sends (see {@link SendBatchExtras}). */
export function sendBatchExtras(deps: {
  readStates: ReadStatesRepository;
  threads: ThreadsRepository;
}): SendBatchExtras {
  return {
    readMoves(created) {
      const newest = new Map<string, MessageRow>();
      for (const row of created) {
        if (row.thread_id !== null) continue;
        const key = `${row.author_id}:${row.channel_id}`;
        const seen = newest.get(key);
        if (!seen || BigInt(seen.id) < BigInt(row.id)) newest.set(key, row);
      }
      return [...newest.values()].map((position) => ({
        userId: position.author_id,
        serverId: position.server_id,
        channelId: position.channel_id,
        messageId: position.id,
        mentionCount: created.filter(
          (row) =>
            row.channel_id === position.channel_id &&
            row.thread_id === null &&
            row.author_id !== position.author_id &&
            BigInt(row.id) > BigInt(position.id) &&
            (row.mentions.everyone === true || (row.mentions.userIds ?? []).includes(position.author_id)),
        ).length,
      }));
    },
    async advance(trx, moves) {
      const moved = await deps.readStates.advanceMany(trx, moves);
      const byKey = new Map(moves.map((move) => [`${move.userId}:${move.channelId}`, move]));
      return moved.flatMap((position) => {
        const move = byKey.get(`${position.userId}:${position.channelId}`);
        return move ? [readStateEvent(move)] : [];
      });
    },
    async afterInsert(trx, created) {
      const threadIds = [...new Set(created.flatMap((row) => row.thread_id ?? []))];
      return (await deps.threads.withActivity(trx, threadIds)).map((found) => {
        const thread = threadView(found);
        return {
          type: "thread.updated",
          payload: { serverId: thread.serverId, channelId: thread.channelId, thread },
        };
      });
    },
  };
}
