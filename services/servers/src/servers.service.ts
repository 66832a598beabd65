import { randomBytes } from "node:crypto";
import { assertVisibleText, BeepError } from "@beep/errors";
import { newId } from "@beep/ids";
import { audit, type Logger } from "@beep/observability";
import type { Kysely, Transaction } from "kysely";
import { recordAudit } from "./audit-log.ts";
import { type MemberLeftReason, memberPayload, serverPayload } from "./event-payloads.ts";
import type { InviteRateLimit } from "./invites-rate.ts";
import { requireNotBanned } from "./moderation.service.ts";
import { isTimedOut } from "./permissions/index.ts";
import {
  type AccessReader,
  emit,
  isId,
  notFound,
  Permission,
  requireAbove,
  requireBits,
  type ServerAccess,
  type ServerLimits,
} from "./server-access.ts";
import {
  type InviteView,
  inviteView,
  type MemberView,
  memberView,
  type ServerView,
  serverView,
} from "./server-views.ts";
import type { InviteRow, ServersRepository } from "./servers.repository.ts";
import type { ServersTables } from "./servers.tables.ts";

/** Who is calling: the verified access token's subject. */
export interface Caller {
  userId: string;
}

/** What ServersService needs. */
export interface ServersServiceDeps {
  db: Kysely<ServersTables>;
  repo: ServersRepository;
  access: AccessReader;
  logger: Logger;
  limits: ServerLimits;
  /** SRV-8 invites per user per server per hour; the module always passes it (tests that do not count may not). */
  inviteRate?: InviteRateLimit;
  now?: () => Date;
}

/**
 * Discord's default @everyone permissions (minus MENTION_EVERYONE, which we leave to admins); private
 * servers also leave out CREATE_INSTANT_INVITE (SRV-4: only those given it may invite).
 */
export function defaultEveryonePermissions(isPublic: boolean): bigint {
  const p = Permission;
  const bits =
    p.VIEW_CHANNEL |
    p.SEND_MESSAGES |
    p.READ_MESSAGE_HISTORY |
    p.ADD_REACTIONS |
    p.EMBED_LINKS |
    p.ATTACH_FILES |
    p.STREAM |
    p.CONNECT |
    p.SPEAK |
    p.CREATE_PUBLIC_THREADS |
    p.SEND_MESSAGES_IN_THREADS;
  return isPublic ? bits | p.CREATE_INSTANT_INVITE : bits;
}

const MAX_INVITE_AGE_SECONDS = 30 * 24 * 3600;
const MAX_INVITE_USES = 10_000;

/** Servers, membership and invites (SRV-1, SRV-3, SRV-4, SRV-5, SRV-6 leave/kick). */
export class ServersService {
  private readonly now: () => Date;

  constructor(private readonly deps: ServersServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Creates a server with @everyone, the owner as member and #general, with its events, in one transaction. */
  async create(
    caller: Caller,
    input: { name: string; description: string; public: boolean },
  ): Promise<ServerView> {
    const name = serverName(input.name);
    const description = serverDescription(input.description);
    const { db, repo } = this.deps;
    const server = await db.transaction().execute(async (trx) => {
      await this.requireRoomForAnotherServer(trx, caller.userId);
      const id = newId();
      await repo.insertServer(trx, { id, name, description, public: input.public, owner_id: caller.userId });
      await repo.insertRole(trx, {
        id,
        server_id: id,
        name: "@everyone",
        color: 0,
        permissions: String(defaultEveryonePermissions(input.public)),
        position: 0,
      });
      await repo.insertMember(trx, id, caller.userId);
      const general = newId();
      await repo.insertChannel(trx, {
        id: general,
        server_id: id,
        type: "text",
        name: "general",
        parent_id: null,
        position: 0,
        topic: "",
      });
      await emit(trx, [
        {
          type: "server.created",
          payload: {
            serverId: id,
            ownerId: caller.userId,
            name,
            public: input.public,
            ...(await serverPayload(trx, repo, id)),
          },
        },
        {
          type: "member.joined",
          payload: { serverId: id, userId: caller.userId, ...(await memberPayload(trx, id, caller.userId)) },
        },
      ]);
      return (await repo.findServer(trx, id)) ?? unreachable(id);
    });
    audit(this.deps.logger, {
      action: "SERVER_CREATED",
      actor: caller.userId,
      target: server.id,
      outcome: "success",
    });
    return serverView(server);
  }

  /** A server the caller belongs to, or any public server (its profile only); NOT_FOUND otherwise. */
  async get(caller: Caller, serverId: string): Promise<ServerView> {
    const { db, repo } = this.deps;
    if (!isId(serverId)) throw notFound("server", "serverId");
    const server = await repo.findServer(db, serverId);
    if (!server || !(server.public || (await repo.isMember(db, serverId, caller.userId)))) {
      throw notFound("server", "serverId");
    }
    return serverView(server);
  }

  /** The caller's servers. */
  async listMine(caller: Caller): Promise<ServerView[]> {
    return (await this.deps.repo.serversOf(this.deps.db, caller.userId)).map(serverView);
  }

  /** Edits name, description, visibility (MANAGE_GUILD). */
  async update(
    caller: Caller,
    serverId: string,
    patch: { name?: string | undefined; description?: string | undefined; public?: boolean | undefined },
  ): Promise<ServerView> {
    const changes = {
      ...(patch.name !== undefined && { name: serverName(patch.name) }),
      ...(patch.description !== undefined && { description: serverDescription(patch.description) }),
      ...(patch.public !== undefined && { public: patch.public }),
    };
    return this.inServer(caller, serverId, async (trx, access) => {
      requireBits(access.base, Permission.MANAGE_GUILD, "edit this server");
      await this.deps.repo.updateServer(trx, serverId, changes);
      await emit(trx, [
        {
          type: "server.updated",
          payload: { serverId, ...changes, ...(await serverPayload(trx, this.deps.repo, serverId)) },
        },
      ]);
      await recordAudit(trx, {
        serverId,
        actorId: caller.userId,
        action: "SERVER_UPDATE",
        targetType: "server",
        targetId: serverId,
        changes,
      });
      return serverView((await this.deps.repo.findServer(trx, serverId)) ?? unreachable(serverId));
    });
  }

  /** Deletes the server and everything in it (owner only). */
  async delete(caller: Caller, serverId: string): Promise<string> {
    await this.inServer(caller, serverId, async (trx, access) => {
      if (!access.isOwner) throw new BeepError("FORBIDDEN", "Only the owner can delete the server");
      await this.deps.repo.deleteServer(trx, serverId);
      await emit(trx, [{ type: "server.deleted", payload: { serverId } }]);
    });
    audit(this.deps.logger, {
      action: "SERVER_DELETED",
      actor: caller.userId,
      target: serverId,
      outcome: "success",
    });
    return serverId;
  }

  /** Hands the server to another member (owner only). */
  async transferOwnership(caller: Caller, serverId: string, userId: string): Promise<ServerView> {
    const view = await this.inServer(caller, serverId, async (trx, access) => {
      if (!access.isOwner) throw new BeepError("FORBIDDEN", "Only the owner can transfer ownership");
      if (!isId(userId) || !(await this.deps.repo.isMember(trx, serverId, userId))) {
        throw notFound("member", "userId");
      }
      await this.deps.repo.updateServer(trx, serverId, { owner_id: userId });
      await emit(trx, [
        {
          type: "server.updated",
          payload: { serverId, ownerId: userId, ...(await serverPayload(trx, this.deps.repo, serverId)) },
        },
      ]);
      return serverView((await this.deps.repo.findServer(trx, serverId)) ?? unreachable(serverId));
    });
    audit(this.deps.logger, {
      action: "SERVER_OWNERSHIP_TRANSFERRED",
      actor: caller.userId,
      target: serverId,
      outcome: "success",
      details: { newOwnerId: userId },
    });
    return view;
  }

  /** Joins a public server; joining one already joined is a no-op. */
  async join(caller: Caller, serverId: string): Promise<ServerView> {
    const { db, repo } = this.deps;
    if (!isId(serverId)) throw notFound("server", "serverId");
    return db.transaction().execute(async (trx) => {
      const server = await repo.lockServer(trx, serverId);
      if (!server || (!server.public && !(await repo.isMember(trx, serverId, caller.userId)))) {
        throw notFound("server", "serverId");
      }
      await this.addMember(trx, serverId, caller.userId);
      return serverView((await repo.findServer(trx, serverId)) ?? unreachable(serverId));
    });
  }

  /** Leaves a server; the owner must transfer it first. */
  async leave(caller: Caller, serverId: string): Promise<string> {
    await this.inServer(caller, serverId, async (trx, access) => {
      if (access.isOwner) {
        throw new BeepError("FORBIDDEN", "The owner cannot leave; transfer ownership or delete the server");
      }
      await this.removeMember(trx, serverId, caller.userId, "left");
    });
    return serverId;
  }

  /** The members of a server the caller belongs to. */
  async listMembers(caller: Caller, serverId: string): Promise<MemberView[]> {
    const access = await this.deps.access.load(this.deps.db, serverId, caller.userId);
    const rows = await this.deps.repo.listMembers(this.deps.db, serverId);
    return rows.map((row) => memberView(serverId, access.server.owner_id, row));
  }

  /** Removes a member (KICK_MEMBERS; the caller must outrank them, ROLE-4). */
  async kick(caller: Caller, serverId: string, userId: string, reason: string): Promise<string> {
    if (reason.length > 512) throw new BeepError("BAD_USER_INPUT", "Reason is too long", { field: "reason" });
    await this.inServer(caller, serverId, async (trx, access) => {
      requireBits(access.base, Permission.KICK_MEMBERS, "kick members");
      const target = await this.deps.access.highestOf(trx, access, userId);
      if (userId === caller.userId)
        throw new BeepError("BAD_USER_INPUT", "Use leaveServer to leave", { field: "userId" });
      requireAbove(access, target, "kick members");
      await this.removeMember(trx, serverId, userId, "kick");
      await recordAudit(trx, {
        serverId,
        actorId: caller.userId,
        action: "MEMBER_KICK",
        targetType: "member",
        targetId: userId,
        reason,
      });
    });
    audit(this.deps.logger, {
      action: "MEMBER_KICKED",
      actor: caller.userId,
      target: userId,
      outcome: "success",
      details: { serverId, reason },
    });
    return userId;
  }

  /** Creates an invite: any member of a public server, CREATE_INSTANT_INVITE on a private one (SRV-4). */
  async createInvite(
    caller: Caller,
    serverId: string,
    input: { maxAgeSeconds: number; maxUses: number },
  ): Promise<InviteView> {
    if (input.maxAgeSeconds < 0 || input.maxAgeSeconds > MAX_INVITE_AGE_SECONDS) {
      throw new BeepError("BAD_USER_INPUT", `Expiry must be 0 (never) to ${MAX_INVITE_AGE_SECONDS} seconds`, {
        field: "maxAgeSeconds",
      });
    }
    if (input.maxUses < 0 || input.maxUses > MAX_INVITE_USES) {
      throw new BeepError("BAD_USER_INPUT", `Max uses must be 0 (unlimited) to ${MAX_INVITE_USES}`, {
        field: "maxUses",
      });
    }
    return this.inServer(caller, serverId, async (trx, access) =>
      inviteView(await this.insertInvite(trx, access, input)),
    );
  }

  /**
   * Creates an invite in the caller's transaction (createInvite, and in-app invites): any member of a
   * public server, CREATE_INSTANT_INVITE on a private one (SRV-4), within the hourly budget (SRV-8).
   */
  async insertInvite(
    trx: Transaction<ServersTables>,
    access: ServerAccess,
    input: { maxAgeSeconds: number; maxUses: number; recipientId?: string },
  ): Promise<InviteRow> {
    const serverId = access.server.id;
    // SRV-10: a timed-out member keeps only view/read, so not the public server's open invites either.
    if (!access.server.public || isTimedOut(access.timedOutUntil, new Date()))
      requireBits(access.base, Permission.CREATE_INSTANT_INVITE, "create invites");
    await this.deps.inviteRate?.admit(serverId, access.userId);
    const row = await this.deps.repo.insertInvite(trx, {
      code: randomBytes(8).toString("base64url"),
      server_id: serverId,
      creator_id: access.userId,
      expires_at:
        input.maxAgeSeconds === 0 ? null : new Date(this.now().getTime() + input.maxAgeSeconds * 1000),
      max_uses: input.maxUses,
    });
    await recordAudit(trx, {
      serverId,
      actorId: access.userId,
      action: "INVITE_CREATE",
      targetType: "invite",
      targetId: row.code,
      changes: {
        maxAgeSeconds: input.maxAgeSeconds,
        maxUses: input.maxUses,
        ...(input.recipientId !== undefined && { recipientId: input.recipientId }),
      },
    });
    return row;
  }

  /** Revokes an invite of the server (its creator, or MANAGE_GUILD). */
  async revokeInvite(caller: Caller, serverId: string, code: string): Promise<InviteView> {
    return this.inServer(caller, serverId, async (trx, access) => {
      const invite = await this.deps.repo.findInvite(trx, code);
      if (!invite || String(invite.server_id) !== serverId) throw notFound("invite", "code");
      if (String(invite.creator_id) !== caller.userId) {
        requireBits(access.base, Permission.MANAGE_GUILD, "revoke others' invites");
      }
      await recordAudit(trx, {
        serverId,
        actorId: caller.userId,
        action: "INVITE_REVOKE",
        targetType: "invite",
        targetId: code,
      });
      return inviteView((await this.deps.repo.revokeInvite(trx, code, this.now())) ?? invite);
    });
  }

  /** The server's invites (MANAGE_GUILD). */
  async listInvites(caller: Caller, serverId: string): Promise<InviteView[]> {
    const access = await this.deps.access.load(this.deps.db, serverId, caller.userId);
    requireBits(access.base, Permission.MANAGE_GUILD, "list invites");
    return (await this.deps.repo.listInvites(this.deps.db, serverId)).map(inviteView);
  }

  /** Joins by a live invite; a member already in the server does not use it up. */
  async joinByInvite(caller: Caller, code: string): Promise<ServerView> {
    const { db, repo } = this.deps;
    const invalid = () =>
      new BeepError("NOT_FOUND", "This invite is invalid, expired, revoked or used up", { field: "code" });
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(code)) throw invalid();
    return db.transaction().execute(async (trx) => {
      const found = await repo.findInvite(trx, code);
      if (!found) throw invalid();
      // An in-app invite opens the server to its recipient only.
      const addressed = await trx
        .selectFrom("in_app_invites")
        .select("recipient_id")
        .where("code", "=", code)
        .executeTakeFirst();
      if (addressed && String(addressed.recipient_id) !== caller.userId) throw invalid();
      const serverId = String(found.server_id);
      await repo.lockServer(trx, serverId);
      if (!(await repo.isMember(trx, serverId, caller.userId))) {
        if (!isLive(found, this.now())) throw invalid();
        await this.requireRoomForAnotherServer(trx, caller.userId);
        if (!(await repo.consumeInvite(trx, code, this.now()))) throw invalid();
        await this.addMember(trx, serverId, caller.userId);
      } else if (!isLive(found, this.now())) {
        throw invalid();
      }
      return serverView((await repo.findServer(trx, serverId)) ?? unreachable(serverId));
    });
  }

  /** Runs `work` in a transaction with the caller's access to the server, the server row locked. */
  private inServer<T>(
    caller: Caller,
    serverId: string,
    work: (trx: Transaction<ServersTables>, access: Awaited<ReturnType<AccessReader["load"]>>) => Promise<T>,
  ): Promise<T> {
    return this.deps.db.transaction().execute(async (trx) => {
      const access = await this.deps.access.load(trx, serverId, caller.userId, true);
      return work(trx, access);
    });
  }

  private async addMember(trx: Transaction<ServersTables>, serverId: string, userId: string): Promise<void> {
    if (await this.deps.repo.isMember(trx, serverId, userId)) return;
    await requireNotBanned(trx, serverId, userId);
    await this.requireRoomForAnotherServer(trx, userId);
    await this.deps.repo.insertMember(trx, serverId, userId);
    // An in-app invite to a server is no longer pending once its recipient is in.
    await trx
      .deleteFrom("in_app_invites")
      .where("server_id", "=", serverId)
      .where("recipient_id", "=", userId)
      .execute();
    await emit(trx, [
      {
        type: "member.joined",
        payload: { serverId, userId, ...(await memberPayload(trx, serverId, userId)) },
      },
    ]);
  }

  private async removeMember(
    trx: Transaction<ServersTables>,
    serverId: string,
    userId: string,
    reason: Exclude<MemberLeftReason, "ban">,
  ): Promise<void> {
    await this.deps.repo.deleteMemberOverwrites(trx, serverId, userId);
    await this.deps.repo.deleteMember(trx, serverId, userId);
    await emit(trx, [{ type: "member.left", payload: { serverId, userId, reason } }]);
  }

  private async requireRoomForAnotherServer(trx: Transaction<ServersTables>, userId: string): Promise<void> {
    const max = this.deps.limits.maxServersPerUser;
    if ((await this.deps.repo.countMemberships(trx, userId)) >= max) {
      throw new BeepError("LIMIT_EXCEEDED", `You can be in at most ${max} servers`);
    }
  }
}

/** Whether an invite can still be used now. */
export function isLive(invite: InviteRow, now: Date): boolean {
  return (
    invite.revoked_at === null &&
    (invite.expires_at === null || new Date(invite.expires_at) > now) &&
    (invite.max_uses === 0 || invite.uses < invite.max_uses)
  );
}

function serverName(value: string): string {
  const name = value.trim();
  if (name.length < 2 || name.length > 100) {
    throw new BeepError("BAD_USER_INPUT", "Name must be 2 to 100 characters", { field: "name" });
  }
  assertVisibleText(name, "name");
  return name;
}

function serverDescription(value: string): string {
  const description = value.trim();
  if (description.length > 1000) {
    throw new BeepError("BAD_USER_INPUT", "Description must be at most 1000 characters", {
      field: "description",
    });
  }
  return description;
}

function unreachable(id: string): never {
  throw new Error(`server ${id} vanished inside its own transaction`);
}
