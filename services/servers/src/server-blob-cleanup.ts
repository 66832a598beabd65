import type { BlobStore } from "@beep/blob";
import type { Bus, BusEvent, BusSubscription } from "@beep/bus";
import type { Logger } from "@beep/observability";
import { serverBlobPrefix } from "./server-pictures.service.ts";

/** The durable consumer group (one per service, whatever the number of processes). */
export const BLOB_CLEANUP_GROUP = "servers-blob-cleanup";

/**
 * Deletes a deleted server's blobs (picture, banner) when `server.deleted` is published. Why from the
 * event rather than in deleteServer: the bus redelivers until it succeeds, so a store that is down at
 * the moment of deletion still ends up empty; and every blob under the server's prefix goes, including
 * one an upload racing the deletion wrote.
 */
export class ServerBlobCleanup {
  private subscription: BusSubscription | undefined;

  constructor(
    private readonly blobs: BlobStore,
    private readonly logger: Logger,
  ) {}

  async start(bus: Bus): Promise<void> {
    this.subscription = await bus.consume(BLOB_CLEANUP_GROUP, ["server.deleted"], (event) =>
      this.apply(event),
    );
  }

  async close(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
  }

  /** Removes every blob of the deleted server; rejects (so the bus retries) when the store fails. */
  async apply(event: Pick<BusEvent, "type" | "payload">): Promise<void> {
    const serverId = (event.payload as { serverId?: unknown } | null)?.serverId;
    if (event.type !== "server.deleted" || typeof serverId !== "string" || !/^\d{1,19}$/.test(serverId))
      return;
    const keys = await this.blobs.list(serverBlobPrefix(serverId));
    for (const key of keys) await this.blobs.delete(key);
    if (keys.length > 0)
      this.logger.info({ server_id: serverId, blobs: keys.length }, "deleted server's blobs removed");
  }
}
