import { type Bus, type BusEvent, type BusSubscription, processOnce, writeOutbox } from "@beep/bus";
import { extractPreviewableUrls, fetchLinkPreview, type LinkPreview } from "@beep/link-preview";
import type { Logger } from "@beep/observability";
import { type Kysely, sql } from "kysely";
import { messageView } from "./message-views.ts";
import type { MessageRow } from "./messages.repository.ts";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import type { MessagesTables } from "./messages.tables.ts";

/** The durable group (and inbox consumer name) of the link preview consumer. */
export const LINK_PREVIEW_GROUP = "messages-link-previews";
const PATTERNS = ["message.created", "message.updated"];

/** The `linkPreviews.*` configuration, as the consumer uses it. */
export interface LinkPreviewSettings {
  enabled: boolean;
  timeoutMs: number;
  maxBytes: number;
  maxPerMessage: number;
  /** Fetches in flight at once in this process (and members of the durable group). */
  concurrency: number;
  allowedPorts: readonly number[];
  oembedEndpoints: { youtube?: string; spotify?: string; twitter?: string };
  /** TEST-ONLY: exact addresses fetches may reach although private (see config). */
  allowPrivateAddressesForTests: readonly string[];
}

/** The config's comma lists and endpoint keys turned into {@link LinkPreviewSettings}. */
export function linkPreviewSettings(config: {
  enabled: boolean;
  timeoutMs: number;
  maxBytes: number;
  maxPerMessage: number;
  concurrency: number;
  allowedPorts: string;
  oembedYoutube: string;
  oembedSpotify: string;
  oembedTwitter: string;
  allowPrivateAddressesForTests: string;
}): LinkPreviewSettings {
  const list = (value: string) =>
    value
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean);
  return {
    enabled: config.enabled,
    timeoutMs: config.timeoutMs,
    maxBytes: config.maxBytes,
    maxPerMessage: config.maxPerMessage,
    concurrency: config.concurrency,
    allowedPorts: list(config.allowedPorts).map(Number),
    oembedEndpoints: {
      ...(config.oembedYoutube && { youtube: config.oembedYoutube }),
      ...(config.oembedSpotify && { spotify: config.oembedSpotify }),
      ...(config.oembedTwitter && { twitter: config.oembedTwitter }),
    },
    allowPrivateAddressesForTests: list(config.allowPrivateAddressesForTests),
  };
}

/** A counting semaphore: at most `limit` holders at once. */
class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    try {
      return await work();
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }
}

interface EventMessage {
  id: string;
  content: string;
  embeds: unknown[];
}

function eventMessage(event: BusEvent): EventMessage | undefined {
  const message = (event.payload as { message?: Partial<EventMessage> } | null)?.message;
  if (!message || typeof message.id !== "string" || typeof message.content !== "string") return undefined;
  return {
    id: message.id,
    content: message.content,
    embeds: Array.isArray(message.embeds) ? message.embeds : [],
  };
}

const TABLE = sql.id(MESSAGES_SCHEMA, "messages");

/** Fetches previews and stores them on messages (MSG-7); see {@link applyLinkPreviews}. */
export class LinkPreviewer {
  private readonly limiter: Limiter;

  constructor(
    private readonly deps: {
      db: Kysely<MessagesTables>;
      settings: LinkPreviewSettings;
      logger: Logger;
      /** Replaces fetchLinkPreview (tests count calls); the real one by default. */
      fetchPreview?: typeof fetchLinkPreview;
    },
  ) {
    this.limiter = new Limiter(Math.max(1, deps.settings.concurrency));
  }

  /**
   * Handles one `message.created`/`message.updated`: when the message's content has not been previewed
   * yet, fetches the previews of its links (concurrency-limited, outside any transaction), then in one
   * transaction with the inbox entry stores them as the message's embeds and emits `message.updated`.
   * A failed fetch gives no embed. Nothing happens when the message changed meanwhile (the later event
   * does it), was deleted, or this content was previewed already (our own update, a redelivery).
   * Returns whether the message was updated.
   */
  async apply(event: BusEvent): Promise<boolean> {
    const message = eventMessage(event);
    if (!message) return false;
    const { settings } = this.deps;
    if (!settings.enabled) return false;
    const urls = extractPreviewableUrls(message.content, settings.maxPerMessage);
    // Fast path, no query: nothing to preview and nothing to clear (most messages).
    if (urls.length === 0 && message.embeds.length === 0) return false;
    if (!(await this.needsPreview(message))) return false;
    const previews = await Promise.all(urls.map((url) => this.limiter.run(() => this.preview(url))));
    const embeds = previews.filter((preview): preview is LinkPreview => preview !== null);
    let updated = false;
    await processOnce(this.deps.db, MESSAGES_SCHEMA, LINK_PREVIEW_GROUP, event, async (trx) => {
      const current = await sql<{ embeds: unknown[] }>`
        select embeds from ${TABLE}
        where id = ${message.id}::bigint and content = ${message.content}
          and embeds_content_md5 is distinct from md5(content)
        for update`.execute(trx);
      const before = current.rows[0];
      if (!before) return;
      const result = await sql<MessageRow>`
        update ${TABLE} set embeds = ${JSON.stringify(embeds)}::jsonb, embeds_content_md5 = md5(content)
        where id = ${message.id}::bigint
        returning id, server_id, channel_id, thread_id, author_id, content, nonce, created_at, edited_at,
          reply_to_id, pinned_at, pinned_by, mentions, embeds`.execute(trx);
      const row = result.rows[0]!;
      // Why no event when nothing shows: every link failed on a message that had no embeds.
      if (embeds.length === 0 && (!Array.isArray(before.embeds) || before.embeds.length === 0)) return;
      await writeOutbox(trx, MESSAGES_SCHEMA, [
        {
          type: "message.updated",
          payload: { serverId: row.server_id, channelId: row.channel_id, message: messageView(row) },
        },
      ]);
      updated = true;
    });
    return updated;
  }

  /** The message still holds this content and it was not previewed yet. */
  private async needsPreview(message: EventMessage): Promise<boolean> {
    const result = await sql<{ id: string }>`
      select id from ${TABLE}
      where id = ${message.id}::bigint and content = ${message.content}
        and embeds_content_md5 is distinct from md5(content)`.execute(this.deps.db);
    return result.rows.length > 0;
  }

  private async preview(url: string): Promise<LinkPreview | null> {
    const { settings, logger } = this.deps;
    return (this.deps.fetchPreview ?? fetchLinkPreview)(url, {
      fetch: {
        timeoutMs: settings.timeoutMs,
        allowedPorts: settings.allowedPorts,
        allowPrivateAddressesForTests: settings.allowPrivateAddressesForTests,
      },
      maxHtmlBytes: settings.maxBytes,
      oembedEndpoints: settings.oembedEndpoints,
      onFailure: (failedUrl, error) =>
        logger.debug({ url: failedUrl, err: error }, "link preview: no preview for this URL"),
    });
  }
}

/**
 * Joins the durable preview group with `concurrency` members, so slow pages of one message do not hold
 * back the next; the send path never waits for any of it (it only writes the outbox).
 */
export async function consumeLinkPreviews(
  bus: Bus,
  previewer: LinkPreviewer,
  members: number,
  logger: Logger,
) {
  const subscriptions: BusSubscription[] = [];
  for (let i = 0; i < Math.max(1, members); i += 1) {
    subscriptions.push(
      await bus.consume(LINK_PREVIEW_GROUP, PATTERNS, async (event) => {
        const updated = await previewer.apply(event);
        if (updated) logger.debug({ eventId: event.id, type: event.type }, "link previews stored");
      }),
    );
  }
  return {
    close: async () => {
      await Promise.all(subscriptions.map((subscription) => subscription.close()));
    },
  };
}
