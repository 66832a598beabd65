import type { Logger } from "@beep/observability";
import type { AttachmentsService } from "./attachments.service.ts";

/**
 * Runs {@link AttachmentsService.sweep} every `intervalMs`, and soon after `kick()` (a deletion queued
 * blobs), one sweep at a time. Why a timer and a queue table rather than deleting blobs inline: the
 * queue entry commits with the deletion, so a crash between commit and blob deletion loses nothing.
 */
export class AttachmentSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly attachments: AttachmentsService,
    private readonly logger: Logger,
    private readonly intervalMs = 60_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.kick(), this.intervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Sweeps now (or right after the sweep in progress). */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.attachments
      .sweep()
      .then((result) => {
        if (result.expired + result.blobsDeleted > 0) this.logger.debug(result, "attachments swept");
      })
      .catch((error: unknown) => this.logger.warn({ err: error }, "attachment sweep failed"))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.again = false;
    await this.running;
  }
}
