import { assertVisibleText, BeepError } from "@beep/errors";
import { newId } from "@beep/ids";
import type { Kysely, Transaction } from "kysely";
import { recordAudit } from "./audit-log.ts";
import { propagateToSyncedChildren, setSynced, syncWithFolder } from "./channel-sync.ts";
import { channelPayload } from "./event-payloads.ts";
import {
  type AccessReader,
  channelPermissions,
  emit,
  isId,
  notFound,
  Permission,
  parseBits,
  requireAbove,
  requireBits,
  requireGrantable,
  type ServerAccess,
  type ServerLimits,
} from "./server-access.ts";
import { type ChannelView, channelView } from "./server-views.ts";
import type { ChannelRow, OverwriteRow, ServersRepository } from "./servers.repository.ts";
import type { Caller } from "./servers.service.ts";
import type { ServersTables } from "./servers.tables.ts";

/** What ChannelsService needs. */
export interface ChannelsServiceDeps {
  db: Kysely<ServersTables>;
  repo: ServersRepository;
  access: AccessReader;
  limits: ServerLimits;
}

const CHANNEL_TYPES = ["text", "voice", "folder"] as const;
type ChannelType = (typeof CHANNEL_TYPES)[number];

/** A channel with the caller's access, loaded in one transaction. */
interface ChannelAccess {
  access: ServerAccess;
  channel: ChannelRow;
  overwrites: OverwriteRow[];
  permissions: bigint;
}

/** Channels, folders and channel overwrites (CHAN-1, CHAN-2, CHAN-3). */
export class ChannelsService {
  constructor(private readonly deps: ChannelsServiceDeps) {}

  /** Creates a channel at the end of the list (MANAGE_CHANNELS). */
  async create(
    caller: Caller,
    serverId: string,
    input: { name: string; type: string; parentId: string; topic: string },
  ): Promise<ChannelView> {
    const name = channelName(input.name);
    const topic = channelTopic(input.topic);
    if (!CHANNEL_TYPES.includes(input.type as ChannelType)) {
      throw new BeepError("BAD_USER_INPUT", "Type must be text, voice or folder", { field: "type" });
    }
    const type = input.type as ChannelType;
    const { repo } = this.deps;
    return this.deps.db.transaction().execute(async (trx) => {
      const access = await this.deps.access.load(trx, serverId, caller.userId, true);
      requireBits(access.base, Permission.MANAGE_CHANNELS, "manage channels");
      const parentId = await this.validParent(trx, access, input.parentId, type);
      const max = this.deps.limits.maxChannelsPerServer;
      if ((await repo.countChannels(trx, serverId)) >= max) {
        throw new BeepError("LIMIT_EXCEEDED", `A server can have at most ${max} channels`);
      }
      const id = newId();
      const position = await repo.nextChannelPosition(trx, serverId);
      await repo.insertChannel(trx, {
        id,
        server_id: serverId,
        type,
        name,
        parent_id: parentId,
        position,
        topic,
      });
      // Discord's sync model: a channel made in a folder starts with the folder's overwrites, synced.
      if (parentId !== null) await syncWithFolder(trx, id, parentId);
      await emit(trx, [
        {
          type: "channel.created",
          payload: { serverId, channelId: id, ...(await channelPayload(trx, repo, id)) },
        },
      ]);
      await recordAudit(trx, {
        serverId,
        actorId: caller.userId,
        action: "CHANNEL_CREATE",
        targetType: "channel",
        targetId: id,
        changes: { name, type, parentId, topic },
      });
      return this.view(trx, serverId, id);
    });
  }

  /** Renames, sets the topic, reorders or moves a channel (MANAGE_CHANNELS in it). */
  async update(
    caller: Caller,
    channelId: string,
    patch: {
      name?: string | undefined;
      topic?: string | undefined;
      position?: number | undefined;
      parentId?: string | undefined;
      /** Take the (new) folder's overwrites and follow them; otherwise a moved channel keeps its own. */
      syncPermissions?: boolean | undefined;
    },
  ): Promise<ChannelView> {
    return this.inChannel(caller, channelId, async (trx, { access, channel, overwrites, permissions }) => {
      requireBits(permissions, Permission.MANAGE_CHANNELS, "manage channels");
      const changes: Partial<{ name: string; topic: string; position: number; parent_id: string | null }> =
        {};
      if (patch.name !== undefined) changes.name = channelName(patch.name);
      if (patch.topic !== undefined) changes.topic = channelTopic(patch.topic);
      if (patch.position !== undefined) {
        if (!Number.isInteger(patch.position) || patch.position < 0 || patch.position > 10_000) {
          throw new BeepError("BAD_USER_INPUT", "Position must be 0 to 10000", { field: "position" });
        }
        changes.position = patch.position;
      }
      if (patch.parentId !== undefined) {
        if (patch.parentId === channel.id) {
          throw new BeepError("BAD_USER_INPUT", "A channel cannot be its own folder", { field: "parentId" });
        }
        changes.parent_id = await this.validParent(trx, access, patch.parentId, channel.type);
      }
      await this.deps.repo.updateChannel(trx, channelId, changes);
      const parentId = changes.parent_id !== undefined ? changes.parent_id : channel.parent_id;
      if (patch.syncPermissions === true) {
        await this.syncToFolder(trx, { access, channel, overwrites, permissions }, parentId);
      } else if (changes.parent_id !== undefined && changes.parent_id !== channel.parent_id) {
        // Moved into or out of a folder: it keeps its own overwrites, so it no longer follows a folder.
        await setSynced(trx, channelId, false);
      }
      await this.emitUpdated(trx, access.server.id, channelId);
      await recordAudit(trx, {
        serverId: access.server.id,
        actorId: caller.userId,
        action: "CHANNEL_UPDATE",
        targetType: "channel",
        targetId: channelId,
        changes,
      });
      return this.view(trx, access.server.id, channelId);
    });
  }

  /** Deletes a channel; a folder's channels go with it (CHAN-2). */
  async delete(caller: Caller, channelId: string): Promise<string[]> {
    return this.inChannel(caller, channelId, async (trx, { access, channel, overwrites, permissions }) => {
      requireBits(permissions, Permission.MANAGE_CHANNELS, "manage channels");
      if (channel.type === "folder") {
        // ROLE-5: the folder's channels go with it, so the caller must manage each (hidden ones included).
        const inside = (await this.deps.repo.channels(trx, access.server.id)).filter(
          (child) => child.parent_id === channelId,
        );
        for (const child of inside) {
          requireBits(
            channelPermissions(access, child, overwrites),
            Permission.MANAGE_CHANNELS,
            "delete a folder holding channels you cannot manage",
          );
        }
      }
      const ids = await this.deps.repo.deleteChannel(trx, channelId);
      await recordAudit(trx, {
        serverId: access.server.id,
        actorId: caller.userId,
        action: "CHANNEL_DELETE",
        targetType: "channel",
        targetId: channelId,
        changes: { channelIds: ids },
      });
      // One event for the folder and its channels: clients drop them all at once.
      await emit(trx, [
        {
          type: "channel.deleted",
          payload: { serverId: access.server.id, channelId, deletedChannelIds: ids },
        },
      ]);
      return ids;
    });
  }

  /** channel.updated with the channel as it is now. */
  private async emitUpdated(trx: Transaction<ServersTables>, serverId: string, channelId: string) {
    await emit(trx, [
      {
        type: "channel.updated",
        payload: { serverId, channelId, ...(await channelPayload(trx, this.deps.repo, channelId)) },
      },
    ]);
  }

  /** The channels the caller can view, by position. */
  async list(caller: Caller, serverId: string): Promise<ChannelView[]> {
    const { db, repo } = this.deps;
    const access = await this.deps.access.load(db, serverId, caller.userId);
    const overwrites = await repo.overwritesOfServer(db, serverId);
    const channels = await repo.channels(db, serverId);
    return channels
      .filter((channel) => channelPermissions(access, channel, overwrites) !== 0n)
      .map((channel) => channelView(channel, overwrites));
  }

  /** The caller's permissions in the server, or in one channel they can view. */
  async myPermissions(caller: Caller, serverId: string, channelId: string): Promise<bigint> {
    const { db } = this.deps;
    if (channelId === "") return (await this.deps.access.load(db, serverId, caller.userId)).base;
    const { access, permissions } = await this.loadChannel(db, caller, channelId);
    if (access.server.id !== serverId) throw notFound("channel", "channelId");
    return permissions;
  }

  /** Sets a role's or member's overwrite on a channel (MANAGE_ROLES in it; only bits the caller has). */
  async setOverwrite(
    caller: Caller,
    channelId: string,
    input: { targetType: string; targetId: string; allow: string; deny: string },
  ): Promise<ChannelView> {
    const targetType = overwriteTarget(input.targetType);
    const allow = parseBits(input.allow, "allow");
    const deny = parseBits(input.deny, "deny");
    if ((allow & deny) !== 0n) {
      throw new BeepError("BAD_USER_INPUT", "A bit cannot be both allowed and denied", { field: "deny" });
    }
    return this.inChannel(caller, channelId, async (trx, { access, channel, overwrites, permissions }) => {
      requireBits(permissions, Permission.MANAGE_ROLES, "edit channel permissions");
      await this.requireTarget(trx, access, targetType, input.targetId);
      await this.requireOutranks(trx, access, targetType, input.targetId);
      const before = overwrites.find(
        (o) => o.channel_id === channelId && o.target_type === targetType && o.target_id === input.targetId,
      );
      requireGrantable(permissions, BigInt(before?.allow ?? 0), allow);
      requireGrantable(permissions, BigInt(before?.deny ?? 0), deny);
      await this.deps.repo.upsertOverwrite(trx, {
        channel_id: channelId,
        target_type: targetType,
        target_id: input.targetId,
        allow: String(allow),
        deny: String(deny),
      });
      // Sync state first, so the event carries the channel as it ends up (a child's own edit unsyncs it).
      await this.afterOverwriteEdit(trx, access.server.id, channel);
      await this.emitUpdated(trx, access.server.id, channelId);
      await recordAudit(trx, {
        serverId: access.server.id,
        actorId: caller.userId,
        action: "CHANNEL_OVERWRITE_SET",
        targetType: "channel",
        targetId: channelId,
        changes: { targetType, targetId: input.targetId, allow: String(allow), deny: String(deny) },
      });
      return this.view(trx, access.server.id, channelId);
    });
  }

  /** Removes an overwrite (MANAGE_ROLES in the channel). */
  async deleteOverwrite(
    caller: Caller,
    channelId: string,
    input: { targetType: string; targetId: string },
  ): Promise<ChannelView> {
    const targetType = overwriteTarget(input.targetType);
    return this.inChannel(caller, channelId, async (trx, { access, channel, overwrites, permissions }) => {
      requireBits(permissions, Permission.MANAGE_ROLES, "edit channel permissions");
      const before = overwrites.find(
        (o) => o.channel_id === channelId && o.target_type === targetType && o.target_id === input.targetId,
      );
      if (!before) throw new BeepError("NOT_FOUND", "No such overwrite", { field: "targetId" });
      await this.requireOutranks(trx, access, targetType, input.targetId);
      requireGrantable(permissions, BigInt(before.allow) | BigInt(before.deny), 0n);
      await this.deps.repo.deleteOverwrite(trx, channelId, targetType, input.targetId);
      // Sync state first, so the event carries the channel as it ends up (a child's own edit unsyncs it).
      await this.afterOverwriteEdit(trx, access.server.id, channel);
      await this.emitUpdated(trx, access.server.id, channelId);
      await recordAudit(trx, {
        serverId: access.server.id,
        actorId: caller.userId,
        action: "CHANNEL_OVERWRITE_DELETE",
        targetType: "channel",
        targetId: channelId,
        changes: { targetType, targetId: input.targetId },
      });
      return this.view(trx, access.server.id, channelId);
    });
  }

  /** Makes a channel in a folder take the folder's overwrites again (MANAGE_ROLES in it). */
  async syncPermissions(caller: Caller, channelId: string): Promise<ChannelView> {
    return this.inChannel(caller, channelId, async (trx, found) => {
      await this.syncToFolder(trx, found, found.channel.parent_id);
      const serverId = found.access.server.id;
      await this.emitUpdated(trx, serverId, channelId);
      return this.view(trx, serverId, channelId);
    });
  }

  /** Copies the folder's overwrites onto the channel: MANAGE_ROLES, and only bits the caller could set. */
  private async syncToFolder(
    trx: Transaction<ServersTables>,
    { access, channel, overwrites, permissions }: ChannelAccess,
    folderId: string | null,
  ): Promise<void> {
    if (folderId === null) {
      throw new BeepError("BAD_USER_INPUT", "Only a channel in a folder can sync with it", {
        field: "syncPermissions",
      });
    }
    requireBits(permissions, Permission.MANAGE_ROLES, "edit channel permissions");
    // What changes for each target: the channel's overwrites now against the folder's.
    const key = (o: OverwriteRow) => `${o.target_type}:${o.target_id}`;
    const mine = new Map(overwrites.filter((o) => o.channel_id === channel.id).map((o) => [key(o), o]));
    const theirs = new Map(overwrites.filter((o) => o.channel_id === folderId).map((o) => [key(o), o]));
    for (const target of new Set([...mine.keys(), ...theirs.keys()])) {
      const before = mine.get(target);
      const after = theirs.get(target);
      const [beforeAllow, afterAllow] = [BigInt(before?.allow ?? 0), BigInt(after?.allow ?? 0)];
      const [beforeDeny, afterDeny] = [BigInt(before?.deny ?? 0), BigInt(after?.deny ?? 0)];
      if (beforeAllow === afterAllow && beforeDeny === afterDeny) continue;
      requireGrantable(permissions, beforeAllow, afterAllow);
      requireGrantable(permissions, beforeDeny, afterDeny);
      // ROLE-4, as for setChannelOverwrite: an overwrite that changes must be of a role or member below the caller.
      const changed = (before ?? after) as OverwriteRow;
      await this.requireOutranks(trx, access, changed.target_type, changed.target_id);
    }
    await syncWithFolder(trx, channel.id, folderId);
    await recordAudit(trx, {
      serverId: access.server.id,
      actorId: access.userId,
      action: "CHANNEL_UPDATE",
      targetType: "channel",
      targetId: channel.id,
      changes: { permissionsSynced: true, parentId: folderId },
    });
  }

  /** A folder's edit reaches its synced channels; a channel's own edit unsyncs it. */
  private async afterOverwriteEdit(
    trx: Transaction<ServersTables>,
    serverId: string,
    channel: ChannelRow,
  ): Promise<void> {
    if (channel.type === "folder") {
      const synced = await propagateToSyncedChildren(trx, channel.id);
      for (const childId of synced) await this.emitUpdated(trx, serverId, childId);
    } else if (channel.permissions_synced) {
      await setSynced(trx, channel.id, false);
    }
  }

  private inChannel<T>(
    caller: Caller,
    channelId: string,
    work: (trx: Transaction<ServersTables>, found: ChannelAccess) => Promise<T>,
  ): Promise<T> {
    return this.deps.db
      .transaction()
      .execute(async (trx) => work(trx, await this.loadChannel(trx, caller, channelId, true)));
  }

  /** The channel and the caller's access; NOT_FOUND unless the caller can view it. */
  private async loadChannel(
    db: Kysely<ServersTables>,
    caller: Caller,
    channelId: string,
    lock = false,
  ): Promise<ChannelAccess> {
    if (!isId(channelId)) throw notFound("channel", "channelId");
    const found = await this.deps.repo.findChannel(db, channelId);
    if (!found) throw notFound("channel", "channelId");
    let access: ServerAccess;
    try {
      access = await this.deps.access.load(db, found.server_id, caller.userId, lock);
    } catch (error) {
      if (error instanceof BeepError && error.code === "NOT_FOUND") throw notFound("channel", "channelId");
      throw error;
    }
    // Re-read under the lock: the channel may have gone while we waited.
    const channel = lock ? await this.deps.repo.findChannel(db, channelId) : found;
    if (!channel) throw notFound("channel", "channelId");
    const overwrites = await this.deps.repo.overwritesOfServer(db, access.server.id);
    const permissions = channelPermissions(access, channel, overwrites);
    if (permissions === 0n) throw notFound("channel", "channelId");
    return { access, channel, overwrites, permissions };
  }

  /** A folder of the same server that the caller can view, or null for the top level; folders cannot nest. */
  private async validParent(
    db: Kysely<ServersTables>,
    access: ServerAccess,
    parentId: string,
    type: string,
  ): Promise<string | null> {
    if (parentId === "") return null;
    if (type === "folder")
      throw new BeepError("BAD_USER_INPUT", "Folders cannot be nested", { field: "parentId" });
    const parent = isId(parentId) ? await this.deps.repo.findChannel(db, parentId) : undefined;
    if (!parent || parent.server_id !== access.server.id) throw notFound("channel", "parentId");
    // ROLE-5: a folder the caller cannot view is not there for them, so nothing goes into it.
    const overwrites = await this.deps.repo.overwritesOfServer(db, access.server.id);
    if (channelPermissions(access, parent, overwrites) === 0n) throw notFound("channel", "parentId");
    if (parent.type !== "folder")
      throw new BeepError("BAD_USER_INPUT", "The parent must be a folder", { field: "parentId" });
    return parent.id;
  }

  private async requireTarget(
    db: Kysely<ServersTables>,
    access: ServerAccess,
    targetType: "role" | "member",
    targetId: string,
  ): Promise<void> {
    if (targetType === "role") {
      if (!access.roles.some((role) => role.id === targetId)) throw notFound("role", "targetId");
    } else if (!isId(targetId) || !(await this.deps.repo.isMember(db, access.server.id, targetId))) {
      throw notFound("member", "targetId");
    }
  }

  /**
   * ROLE-4: an overwrite manages its role or member, so the caller must outrank them (their own member
   * overwrite excepted, as with their own roles). A role or member already gone ranks as @everyone.
   */
  private async requireOutranks(
    db: Kysely<ServersTables>,
    access: ServerAccess,
    targetType: "role" | "member",
    targetId: string,
  ): Promise<void> {
    if (targetType === "member" && targetId === access.userId) return;
    let rank = 0;
    if (targetType === "role") {
      rank = access.roles.find((role) => role.id === targetId)?.position ?? 0;
    } else if (isId(targetId) && (await this.deps.repo.isMember(db, access.server.id, targetId))) {
      rank = await this.deps.access.highestOf(db, access, targetId);
    }
    requireAbove(access, rank, "edit overwrites of roles and members");
  }

  private async view(db: Kysely<ServersTables>, serverId: string, channelId: string): Promise<ChannelView> {
    const channel = (await this.deps.repo.findChannel(db, channelId)) ?? unreachable(channelId);
    return channelView(channel, await this.deps.repo.overwritesOfServer(db, serverId));
  }
}

function overwriteTarget(value: string): "role" | "member" {
  if (value !== "role" && value !== "member") {
    throw new BeepError("BAD_USER_INPUT", "Target type must be role or member", { field: "targetType" });
  }
  return value;
}

function channelName(value: string): string {
  const name = value.trim();
  if (name.length < 1 || name.length > 100) {
    throw new BeepError("BAD_USER_INPUT", "Name must be 1 to 100 characters", { field: "name" });
  }
  assertVisibleText(name, "name");
  return name;
}

function channelTopic(value: string): string {
  if (value.length > 1024)
    throw new BeepError("BAD_USER_INPUT", "Topic must be at most 1024 characters", { field: "topic" });
  return value;
}

function unreachable(id: string): never {
  throw new Error(`channel ${id} vanished inside its own transaction`);
}
