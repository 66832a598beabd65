import { BeepError } from "@beep/errors";
import type { Kysely } from "kysely";
import type { MemberListRepository, MemberListRow } from "./member-list.repository.ts";
import { decodeCursor, encodeCursor, pageSize } from "./page-cursor.ts";
import { PERMISSIONS } from "./permissions/index.ts";
import { type AccessReader, channelPermissions, isId, notFound, type ServerAccess } from "./server-access.ts";
import { type RoleView, roleView } from "./server-views.ts";
import type { ServersRepository } from "./servers.repository.ts";
import type { Caller } from "./servers.service.ts";
import type { ServersTables } from "./servers.tables.ts";

/** What MemberListService needs. */
export interface MemberListServiceDeps {
  db: Kysely<ServersTables>;
  repo: ServersRepository;
  members: MemberListRepository;
  access: AccessReader;
}

/** One member of a list. */
export interface MemberListEntry {
  serverId: string;
  userId: string;
  /** From the directory of users' names; empty when not (yet) known. */
  username: string;
  displayName: string;
  /** The member's roles besides @everyone, highest first. */
  roles: RoleView[];
  joinedAt: string;
  /** ISO-8601; empty when not timed out (or the timeout has passed). */
  timedOutUntil: string;
  owner: boolean;
}

/** One page of a member list. */
export interface MemberListPage {
  edges: Array<{ member: MemberListEntry; cursor: string }>;
  hasNextPage: boolean;
  endCursor: string;
}

const CURSOR_KIND = "members";
/** Members read per query while filtering a channel's viewers. */
const CHANNEL_SCAN_BATCH = 500;

/** Paged member lists: a server's (SRV-7) and who can view a channel (CHAN-4). */
export class MemberListService {
  constructor(private readonly deps: MemberListServiceDeps) {}

  /** A server's members in join order, optionally those whose username starts with `query` (members only). */
  async serverMembers(
    caller: Caller,
    serverId: string,
    input: { first: number; after: string; query: string },
  ): Promise<MemberListPage> {
    const limit = pageSize(input.first);
    const prefix = input.query.trim();
    if (prefix.length > 32) {
      throw new BeepError("BAD_USER_INPUT", "query must be at most 32 characters", { field: "query" });
    }
    const after = afterOf(input.after);
    const { db } = this.deps;
    const access = await this.deps.access.load(db, serverId, caller.userId);
    const rows = await this.deps.members.page(db, serverId, {
      ...(after && { after }),
      ...(prefix && { usernamePrefix: prefix }),
      limit: limit + 1,
    });
    return pageOf(access, rows, limit);
  }

  /**
   * The members who can view a channel (VIEW_CHANNEL after overwrites), in join order. The caller must
   * be able to view it. Roles and overwrites are loaded once; members are read in batches and filtered
   * by the engine, so the cost is a few queries per page whatever the server's size.
   */
  async channelMembers(
    caller: Caller,
    channelId: string,
    input: { first: number; after: string },
  ): Promise<MemberListPage> {
    const limit = pageSize(input.first);
    let after = afterOf(input.after);
    const { db, repo } = this.deps;
    if (!isId(channelId)) throw notFound("channel", "channelId");
    const channel = await repo.findChannel(db, channelId);
    if (!channel) throw notFound("channel", "channelId");
    let access: ServerAccess;
    try {
      access = await this.deps.access.load(db, channel.server_id, caller.userId);
    } catch (error) {
      if (error instanceof BeepError && error.code === "NOT_FOUND") throw notFound("channel", "channelId");
      throw error;
    }
    const overwrites = (await repo.overwritesOfServer(db, access.server.id)).filter(
      (o) => String(o.channel_id) === channelId,
    );
    if ((channelPermissions(access, channel, overwrites) & PERMISSIONS.VIEW_CHANNEL) === 0n) {
      throw notFound("channel", "channelId");
    }
    const viewers: MemberListRow[] = [];
    for (;;) {
      const batch = await this.deps.members.page(db, access.server.id, {
        ...(after && { after }),
        limit: Math.max(CHANNEL_SCAN_BATCH, limit + 1),
      });
      for (const row of batch) {
        const bits = channelPermissions(accessOf(access, row), channel, overwrites);
        if ((bits & PERMISSIONS.VIEW_CHANNEL) !== 0n) viewers.push(row);
        if (viewers.length > limit) break;
      }
      const last = batch.at(-1);
      if (viewers.length > limit || !last || batch.length < Math.max(CHANNEL_SCAN_BATCH, limit + 1)) break;
      after = { joinedKey: last.joined_key, userId: String(last.user_id) };
    }
    return pageOf(access, viewers, limit);
  }
}

function afterOf(cursor: string): { joinedKey: string; userId: string } | undefined {
  if (cursor === "") return undefined;
  const [joinedKey, userId] = decodeCursor(cursor, CURSOR_KIND, ["string", "string"] as const);
  if (!/^\d{1,12}(\.\d{1,6})?$/.test(joinedKey) || !isId(userId)) {
    throw new BeepError("BAD_USER_INPUT", "Invalid cursor", { field: "after" });
  }
  return { joinedKey, userId };
}

/** Another member's access as the engine takes it, from the caller's already loaded server and roles. */
function accessOf(loaded: ServerAccess, row: MemberListRow): ServerAccess {
  const held = new Set(row.role_ids.map(String));
  const memberRoles = loaded.roles.filter((role) => held.has(role.id) && role.id !== loaded.everyone.id);
  const userId = String(row.user_id);
  const isOwner = loaded.server.owner_id === userId;
  return {
    server: loaded.server,
    userId,
    isOwner,
    roles: loaded.roles,
    everyone: loaded.everyone,
    memberRoles,
    // Not read by channelPermissions, which computes base bits itself from the roles.
    base: 0n,
    highest: isOwner ? Number.POSITIVE_INFINITY : Math.max(0, ...memberRoles.map((role) => role.position)),
    timedOutUntil: row.timed_out_until ? new Date(row.timed_out_until) : null,
  };
}

function pageOf(access: ServerAccess, rows: MemberListRow[], limit: number): MemberListPage {
  const now = Date.now();
  const edges = rows.slice(0, limit).map((row) => {
    const held = new Set(row.role_ids.map(String));
    const until = row.timed_out_until ? new Date(row.timed_out_until) : null;
    const member: MemberListEntry = {
      serverId: access.server.id,
      userId: String(row.user_id),
      username: row.username ?? "",
      displayName: row.display_name ?? "",
      roles: access.roles.filter((role) => held.has(role.id)).map(roleView),
      joinedAt: new Date(row.joined_at).toISOString(),
      timedOutUntil: until && until.getTime() > now ? until.toISOString() : "",
      owner: String(row.user_id) === access.server.owner_id,
    };
    return { member, cursor: encodeCursor(CURSOR_KIND, [row.joined_key, String(row.user_id)]) };
  });
  return { edges, hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? "" };
}
