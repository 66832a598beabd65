import { writeOutbox } from "@beep/bus";
import { BeepError } from "@beep/errors";
import { PERMISSIONS } from "@beep/servers/permissions";
import type { Kysely } from "kysely";
import { checkEmoji } from "./emoji.ts";
import { hasBits, type MessageAccess, notFound } from "./message-access.ts";
import type { MessagesRepository } from "./messages.repository.ts";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import type { MessagesTables } from "./messages.tables.ts";
import type { ReactionSummary, ReactionsRepository } from "./reactions.repository.ts";

/** Distinct emoji on one message at most (MSG-9). */
export const MAX_EMOJI_PER_MESSAGE = 20;
/** reactionUsers page size: default and maximum. */
export const DEFAULT_REACTION_USERS = 25;
export const MAX_REACTION_USERS = 100;
/** Messages whose reactions one batch read may ask for. */
export const MAX_SUMMARY_MESSAGES = 200;

const READ = PERMISSIONS.VIEW_CHANNEL | PERMISSIONS.READ_MESSAGE_HISTORY;

/** A page of the users who reacted with one emoji. */
export interface ReactionUsersPage {
  userIds: string[];
  hasMore: boolean;
}

/**
 * Reactions (MSG-9). Reacting needs VIEW_CHANNEL + READ_MESSAGE_HISTORY; a new emoji on the message
 * also needs ADD_REACTIONS, while anyone who can read may join an existing one (as in Discord).
 * Adding and removing are idempotent per (message, user, emoji); only a change emits an event.
 */
export class ReactionsService {
  constructor(
    private readonly deps: {
      db: Kysely<MessagesTables>;
      repo: MessagesRepository;
      reactions: ReactionsRepository;
      access: MessageAccess;
    },
  ) {}

  /** Adds the caller's reaction; returns the message's reactions as the caller sees them. */
  async add(userId: string, messageId: string, rawEmoji: string): Promise<ReactionSummary[]> {
    const { access, row } = await this.deps.access.message(userId, messageId, READ);
    const emoji = checkEmoji(rawEmoji);
    await this.deps.db.transaction().execute(async (trx) => {
      // Why the row lock: two new emoji at once must not both pass the 20-emoji check.
      if (!(await this.deps.repo.findForUpdate(trx, row.id))) throw notFound("message", "messageId");
      const present = await this.deps.reactions.emojiOf(trx, row.id);
      if (!present.includes(emoji)) {
        if (!hasBits(access.bits, PERMISSIONS.ADD_REACTIONS)) {
          throw new BeepError("FORBIDDEN", "A new reaction needs ADD_REACTIONS");
        }
        if (present.length >= MAX_EMOJI_PER_MESSAGE) {
          throw new BeepError("LIMIT_EXCEEDED", `A message holds at most ${MAX_EMOJI_PER_MESSAGE} emoji`);
        }
      }
      if (!(await this.deps.reactions.insert(trx, row.id, emoji, userId))) return;
      await writeOutbox(trx, MESSAGES_SCHEMA, [
        {
          type: "reaction.added",
          payload: { serverId: row.server_id, channelId: row.channel_id, messageId: row.id, emoji, userId },
        },
      ]);
    });
    return this.of(userId, row.id);
  }

  /** Removes the caller's reaction (nothing happens when there was none). */
  async remove(userId: string, messageId: string, rawEmoji: string): Promise<ReactionSummary[]> {
    const { row } = await this.deps.access.message(userId, messageId, READ);
    const emoji = checkEmoji(rawEmoji);
    await this.deps.db.transaction().execute(async (trx) => {
      if (!(await this.deps.reactions.delete(trx, row.id, emoji, userId))) return;
      await writeOutbox(trx, MESSAGES_SCHEMA, [
        {
          type: "reaction.removed",
          payload: { serverId: row.server_id, channelId: row.channel_id, messageId: row.id, emoji, userId },
        },
      ]);
    });
    return this.of(userId, row.id);
  }

  /**
   * The reactions of a page of messages in one query. Messages the caller cannot read, or that do not
   * exist, are simply absent (a batch read never tells one from the other).
   */
  async summaries(userId: string, messageIds: readonly string[]): Promise<Map<string, ReactionSummary[]>> {
    const ids = [...new Set(messageIds)].filter((id) => /^\d{1,19}$/.test(id));
    if (ids.length > MAX_SUMMARY_MESSAGES) {
      throw new BeepError("BAD_USER_INPUT", `At most ${MAX_SUMMARY_MESSAGES} messages at once`, {
        field: "messageIds",
      });
    }
    const channels = await this.deps.repo.channelsOf(this.deps.db, ids);
    const readable = await this.deps.access.readable(
      userId,
      [...channels].map(([id, channel_id]) => ({ id, channel_id })),
    );
    return this.deps.reactions.summaries(
      this.deps.db,
      readable.map((row) => row.id),
      userId,
    );
  }

  /** Who reacted with the emoji, by user id; `after` is the last user id of the previous page. */
  async users(
    userId: string,
    input: { messageId: string; emoji: string; first?: number; after?: string },
  ): Promise<ReactionUsersPage> {
    const { row } = await this.deps.access.message(userId, input.messageId, READ);
    const emoji = checkEmoji(input.emoji);
    const first = input.first === undefined || input.first === 0 ? DEFAULT_REACTION_USERS : input.first;
    if (!Number.isInteger(first) || first < 1 || first > MAX_REACTION_USERS) {
      throw new BeepError("BAD_USER_INPUT", `first is 1 to ${MAX_REACTION_USERS}`, { field: "first" });
    }
    const after = input.after === undefined || input.after === "" ? undefined : input.after;
    if (after !== undefined && (!/^\d{1,19}$/.test(after) || BigInt(after) >= 1n << 63n)) {
      throw new BeepError("BAD_USER_INPUT", "after is a user id", { field: "after" });
    }
    const userIds = await this.deps.reactions.users(this.deps.db, row.id, emoji, after, first + 1);
    return { userIds: userIds.slice(0, first), hasMore: userIds.length > first };
  }

  private async of(userId: string, messageId: string): Promise<ReactionSummary[]> {
    return (await this.deps.reactions.summaries(this.deps.db, [messageId], userId)).get(messageId) ?? [];
  }
}
