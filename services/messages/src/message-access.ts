import { BeepError } from "@beep/errors";
import { isSnowflake } from "@beep/ids";
import { PERMISSIONS } from "@beep/servers/permissions";
import type { Kysely } from "kysely";
import type { ChannelAccess, ChannelAccessCache } from "./channel-access.ts";
import type { MessageRow, MessagesRepository } from "./messages.repository.ts";
import type { MessagesTables } from "./messages.tables.ts";

/** True when `bits` hold every bit of `needed`. */
export function hasBits(bits: bigint, needed: bigint): boolean {
  return (bits & needed) === needed;
}

/** NOT_FOUND naming the argument: what the caller cannot see does not exist for them. */
export function notFound(what: string, field: string): BeepError {
  return new BeepError("NOT_FOUND", `No such ${what}`, { field });
}

/**
 * Permission checks shared by reactions, read states and threads, with the same rules as
 * MessagesService: a channel or message the caller cannot view (or a folder) is NOT_FOUND; past
 * VIEW_CHANNEL, a missing bit is FORBIDDEN.
 */
export class MessageAccess {
  constructor(
    private readonly deps: {
      db: Kysely<MessagesTables>;
      repo: MessagesRepository;
      access: ChannelAccessCache;
    },
  ) {}

  /** The caller's access to a channel holding `needed`. */
  async channel(
    userId: string,
    channelId: string,
    needed: bigint,
    field = "channelId",
  ): Promise<ChannelAccess> {
    if (!isSnowflake(channelId)) throw notFound("channel", field);
    const access = await this.deps.access.access(userId, channelId);
    if (!access || !hasBits(access.bits, PERMISSIONS.VIEW_CHANNEL) || access.channelType === "folder") {
      throw notFound("channel", field);
    }
    if (!hasBits(access.bits, needed)) throw new BeepError("FORBIDDEN", "Missing permission in this channel");
    return access;
  }

  /** A message whose channel the caller views with `needed`. */
  async message(
    userId: string,
    messageId: string,
    needed: bigint,
    field = "messageId",
  ): Promise<{ access: ChannelAccess; row: MessageRow }> {
    if (!isSnowflake(messageId)) throw notFound("message", field);
    const row = await this.deps.repo.find(this.deps.db, messageId);
    if (!row) throw notFound("message", field);
    const access = await this.deps.access.access(userId, row.channel_id);
    if (!access || !hasBits(access.bits, PERMISSIONS.VIEW_CHANNEL)) throw notFound("message", field);
    if (!hasBits(access.bits, needed))
      throw new BeepError("FORBIDDEN", "Missing permission for this message");
    return { access, row };
  }

  /**
   * Of `rows`, those in channels where the caller holds VIEW_CHANNEL + READ_MESSAGE_HISTORY (one cached
   * lookup per distinct channel): batch reads answer only for what the caller may read.
   */
  async readable<T extends { channel_id: string }>(userId: string, rows: readonly T[]): Promise<T[]> {
    const channels = [...new Set(rows.map((row) => row.channel_id))];
    const needed = PERMISSIONS.VIEW_CHANNEL | PERMISSIONS.READ_MESSAGE_HISTORY;
    const allowed = new Set<string>();
    await Promise.all(
      channels.map(async (channelId) => {
        const access = await this.deps.access.access(userId, channelId);
        if (access && hasBits(access.bits, needed)) allowed.add(channelId);
      }),
    );
    return rows.filter((row) => allowed.has(row.channel_id));
  }
}
