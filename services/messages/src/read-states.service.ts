import { writeOutbox } from "@beep/bus";
import { BeepError } from "@beep/errors";
import { isSnowflake } from "@beep/ids";
import { PERMISSIONS } from "@beep/servers/permissions";
import type { Kysely, Transaction } from "kysely";
import type { MessageAccess } from "./message-access.ts";
import { notFound } from "./message-access.ts";
import type { MessagesRepository } from "./messages.repository.ts";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import type { MessagesTables } from "./messages.tables.ts";
import type { ReadStateCounts, ReadStatesRepository } from "./read-states.repository.ts";

/** What servers tells about the caller in a server, asked on their behalf. */
export interface MemberDirectory {
  /** The server's channels the caller can view (id and type), by position; undefined when not a member. */
  visibleChannels(serverId: string): Promise<Array<{ id: string; type: string }> | undefined>;
  /** The caller's roles in the server besides @everyone. */
  roleIds(serverId: string): Promise<string[]>;
}

/** The caller of a read-state operation. */
export interface ReadStateCaller {
  userId: string;
  members: MemberDirectory;
}

/** A channel's read state as the API returns it. */
export interface ReadStateView extends ReadStateCounts {
  serverId: string;
}

/**
 * Read states (MSG-11): per (user, channel) the last message read, which only moves forward. Counts
 * are computed when read (one statement over the server's channels); own messages never count, and
 * sending marks the channel read for its author (send-extras.ts, in the send's transaction). A move emits `read_state.updated` for the user's
 * other devices, in the same transaction.
 */
export class ReadStatesService {
  constructor(
    private readonly deps: {
      db: Kysely<MessagesTables>;
      repo: MessagesRepository;
      readStates: ReadStatesRepository;
      access: MessageAccess;
    },
  ) {}

  /** Marks the channel read up to the message (default: its latest); never backwards. */
  async markRead(caller: ReadStateCaller, channelId: string, messageId?: string): Promise<ReadStateView> {
    const access = await this.deps.access.channel(caller.userId, channelId, PERMISSIONS.VIEW_CHANNEL);
    let target: string | undefined;
    if (messageId !== undefined && messageId !== "") {
      // Why NOT_FOUND for another channel's message: an id from elsewhere reveals nothing about it.
      if (!isSnowflake(messageId)) throw notFound("message", "messageId");
      const row = await this.deps.repo.find(this.deps.db, messageId);
      if (!row || row.channel_id !== channelId) throw notFound("message", "messageId");
      if (row.thread_id !== null) {
        throw new BeepError(
          "BAD_USER_INPUT",
          "Read positions name messages of the channel, not of a thread",
          {
            field: "messageId",
          },
        );
      }
      target = row.id;
    } else {
      target = (await this.deps.repo.latestIds(this.deps.db, [channelId])).get(channelId)?.toString();
    }
    const roleIds = await caller.members.roleIds(access.serverId);
    return this.deps.db.transaction().execute(async (trx) => {
      const moved =
        target !== undefined &&
        (await this.deps.readStates.advance(trx, {
          userId: caller.userId,
          serverId: access.serverId,
          channelId,
          messageId: target,
        }));
      const [counts] = await this.deps.readStates.counts(trx, caller.userId, [channelId], roleIds);
      const view = { serverId: access.serverId, ...counts! };
      if (moved) await this.announce(trx, caller.userId, view);
      return view;
    });
  }

  /** The caller's read state of every channel they can view in the server (folders aside), by position. */
  async list(caller: ReadStateCaller, serverId: string): Promise<ReadStateView[]> {
    if (!isSnowflake(serverId)) throw notFound("server", "serverId");
    const channels = await caller.members.visibleChannels(serverId);
    if (!channels) throw notFound("server", "serverId");
    const ids = channels.filter((channel) => channel.type !== "folder").map((channel) => channel.id);
    const roleIds = await caller.members.roleIds(serverId);
    const counts = await this.deps.readStates.counts(this.deps.db, caller.userId, ids, roleIds);
    return counts.map((row) => ({ serverId, ...row }));
  }

  private async announce(
    trx: Transaction<MessagesTables>,
    userId: string,
    view: ReadStateView,
  ): Promise<void> {
    await writeOutbox(trx, MESSAGES_SCHEMA, [
      {
        type: "read_state.updated",
        payload: {
          userId,
          serverId: view.serverId,
          channelId: view.channelId,
          lastReadMessageId: view.lastReadMessageId,
          mentionCount: view.mentionCount,
        },
      },
    ]);
  }
}
