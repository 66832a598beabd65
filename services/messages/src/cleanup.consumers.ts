import { type Bus, type BusEvent, type BusSubscription, processOnce, writeOutbox } from "@beep/bus";
import type { Logger } from "@beep/observability";
import type { Kysely } from "kysely";
import { AttachmentsRepository } from "./attachments.repository.ts";
import { deleteChannelExtras } from "./extras-cleanup.ts";
import type { MessagesRepository } from "./messages.repository.ts";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import type { MessagesTables } from "./messages.tables.ts";

/** The durable group (and inbox consumer name) of the cleanup consumer. */
export const CLEANUP_GROUP = "messages-cleanup";
const PATTERNS = ["server.deleted", "channel.deleted", "member.banned"];

interface CleanupPayload {
  serverId?: unknown;
  channelId?: unknown;
  deletedChannelIds?: unknown;
  userId?: unknown;
  deleteMessagesSince?: unknown;
}

// Attachment rows go with their messages; their blobs are queued in the same transaction (sweeper deletes).
const attachments = new AttachmentsRepository();

const ids = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];

/**
 * Applies one servers event to messages, exactly once (inbox): a deleted server or channel loses its
 * messages; a ban with a delete window (`deleteMessagesSince`, set by ModerationService) removes the
 * user's messages in the server since then and emits one `messages.purged` per channel with their ids.
 */
export async function applyCleanup(
  db: Kysely<MessagesTables>,
  repo: MessagesRepository,
  event: BusEvent,
): Promise<boolean> {
  const payload = (event.payload ?? {}) as CleanupPayload;
  const serverId = typeof payload.serverId === "string" ? payload.serverId : undefined;
  return processOnce(db, MESSAGES_SCHEMA, CLEANUP_GROUP, event, async (trx) => {
    if (event.type === "server.deleted" && serverId) {
      await repo.deleteServer(trx, serverId);
      await attachments.discardForServer(trx, serverId);
      await deleteChannelExtras(trx, { serverId });
    } else if (event.type === "channel.deleted") {
      const channels = new Set([
        ...ids(payload.deletedChannelIds),
        ...(typeof payload.channelId === "string" ? [payload.channelId] : []),
      ]);
      await repo.deleteChannels(trx, [...channels]);
      await attachments.discardForChannels(trx, [...channels]);
      await deleteChannelExtras(trx, { channelIds: [...channels] });
    } else if (event.type === "member.banned" && serverId && typeof payload.userId === "string") {
      const userId = payload.userId;
      if (typeof payload.deleteMessagesSince !== "string") return;
      const since = new Date(payload.deleteMessagesSince);
      if (Number.isNaN(since.getTime())) return;
      const purged = await repo.purgeAuthor(trx, serverId, userId, since);
      await attachments.discardForMessages(
        trx,
        purged.map((row) => row.id),
      );
      if (purged.length === 0) return;
      // One event per channel: clients that may view the channel remove the messages, and nobody learns
      // the ids of messages in channels hidden from them.
      const byChannel = new Map<string, string[]>();
      for (const row of purged)
        byChannel.set(row.channel_id, [...(byChannel.get(row.channel_id) ?? []), row.id]);
      const ascending = (a: string, b: string) =>
        BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;
      await writeOutbox(
        trx,
        MESSAGES_SCHEMA,
        [...byChannel.entries()]
          .sort(([a], [b]) => ascending(a, b))
          .map(([channelId, messageIds]) => ({
            type: "messages.purged",
            payload: { serverId, channelId, userId, messageIds: messageIds.sort(ascending) },
          })),
      );
    }
  });
}

/** Joins the durable cleanup group; redelivered events are skipped by the inbox. */
export function consumeCleanup(
  bus: Bus,
  db: Kysely<MessagesTables>,
  repo: MessagesRepository,
  logger: Logger,
  blobsQueued?: () => void,
): Promise<BusSubscription> {
  return bus.consume(CLEANUP_GROUP, PATTERNS, async (event) => {
    const applied = await applyCleanup(db, repo, event);
    if (applied) blobsQueued?.();
    logger.debug({ eventId: event.id, type: event.type, applied }, "messages cleanup");
  });
}
