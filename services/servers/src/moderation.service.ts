import { BeepError } from "@beep/errors";
import { audit, type Logger } from "@beep/observability";
import type { Kysely, Transaction } from "kysely";
import { AUDIT_ACTIONS, type AuditAction, recordAudit } from "./audit-log.ts";
import { memberPayload } from "./event-payloads.ts";
import {
  type AuditLogRow,
  type BanRow,
  isBanned,
  type ModerationRepository,
} from "./moderation.repository.ts";
import { canManageMember } from "./permissions/index.ts";
import {
  type AccessReader,
  emit,
  isId,
  notFound,
  Permission,
  requireBits,
  type ServerAccess,
} from "./server-access.ts";
import type { ServersRepository } from "./servers.repository.ts";
import type { Caller } from "./servers.service.ts";
import type { ServersTables } from "./servers.tables.ts";

/** What ModerationService needs. */
export interface ModerationServiceDeps {
  db: Kysely<ServersTables>;
  repo: ServersRepository;
  moderation: ModerationRepository;
  access: AccessReader;
  logger: Logger;
  now?: () => Date;
}

/** A ban as callers see it. */
export interface BanView {
  serverId: string;
  userId: string;
  actorId: string;
  reason: string;
  createdAt: string;
}

/** An audit log entry as callers see it. */
export interface AuditLogEntryView {
  id: string;
  serverId: string;
  actorId: string;
  action: string;
  targetType: string;
  targetId: string;
  reason: string;
  changesJson: string;
  createdAt: string;
}

const MAX_REASON = 512;
const MAX_DELETE_MESSAGE_SECONDS = 7 * 24 * 3600;
const MAX_TIMEOUT_MS = 28 * 24 * 3600 * 1000;
const MAX_AUDIT_PAGE = 100;

/** FORBIDDEN for a banned user joining (public join or invite), in the joining transaction (SRV-6). */
export async function requireNotBanned(db: Kysely<ServersTables>, serverId: string, userId: string) {
  if (await isBanned(db, serverId, userId)) {
    throw new BeepError("FORBIDDEN", "You are banned from this server");
  }
}

/** Bans (SRV-6), timeouts (SRV-10) and the audit log (SRV-9). */
export class ModerationService {
  private readonly now: () => Date;

  constructor(private readonly deps: ModerationServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Bans a user: BAN_MEMBERS, outranking them; removes their membership and records the ban. */
  async ban(
    caller: Caller,
    serverId: string,
    userId: string,
    input: { reason: string; deleteMessageSeconds: number },
  ): Promise<BanView> {
    const reason = reasonOf(input.reason);
    const seconds = input.deleteMessageSeconds;
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_DELETE_MESSAGE_SECONDS) {
      throw new BeepError("BAD_USER_INPUT", `Delete messages of 0 to ${MAX_DELETE_MESSAGE_SECONDS} seconds`, {
        field: "deleteMessageSeconds",
      });
    }
    const ban = await this.inServer(caller, serverId, async (trx, access) => {
      requireBits(access.base, Permission.BAN_MEMBERS, "ban members");
      if (!isId(userId)) throw notFound("member", "userId");
      const member = await this.deps.repo.isMember(trx, serverId, userId);
      // Why: a user not (or no longer) in the server can be banned too; they rank as @everyone.
      await this.requireManageable(trx, access, userId, member, "ban");
      if (member) {
        await this.deps.repo.deleteMemberOverwrites(trx, serverId, userId);
        await this.deps.repo.deleteMember(trx, serverId, userId);
        await emit(trx, [{ type: "member.left", payload: { serverId, userId, reason: "ban" } }]);
      }
      const row = await this.deps.moderation.upsertBan(trx, {
        server_id: serverId,
        user_id: userId,
        actor_id: caller.userId,
        reason,
      });
      const since = seconds > 0 ? new Date(this.now().getTime() - seconds * 1000).toISOString() : undefined;
      await emit(trx, [
        {
          type: "member.banned",
          payload: { serverId, userId, ...(since !== undefined && { deleteMessagesSince: since }) },
        },
      ]);
      await recordAudit(trx, {
        serverId,
        actorId: caller.userId,
        action: "MEMBER_BAN_ADD",
        targetType: "user",
        targetId: userId,
        reason,
        changes: { deleteMessageSeconds: seconds },
      });
      return row;
    });
    this.log("MEMBER_BANNED", caller, userId, { serverId, reason });
    return banView(ban);
  }

  /** Lifts a ban (BAN_MEMBERS); NOT_FOUND when the user is not banned. */
  async unban(caller: Caller, serverId: string, userId: string, rawReason: string): Promise<string> {
    const reason = reasonOf(rawReason);
    await this.inServer(caller, serverId, async (trx, access) => {
      requireBits(access.base, Permission.BAN_MEMBERS, "unban members");
      if (!isId(userId) || !(await this.deps.moderation.deleteBan(trx, serverId, userId))) {
        throw new BeepError("NOT_FOUND", "No such ban", { field: "userId" });
      }
      await emit(trx, [{ type: "member.unbanned", payload: { serverId, userId } }]);
      await recordAudit(trx, {
        serverId,
        actorId: caller.userId,
        action: "MEMBER_BAN_REMOVE",
        targetType: "user",
        targetId: userId,
        reason,
      });
    });
    this.log("MEMBER_UNBANNED", caller, userId, { serverId, reason });
    return userId;
  }

  /** The server's bans, newest first (BAN_MEMBERS). */
  async listBans(caller: Caller, serverId: string): Promise<BanView[]> {
    const access = await this.deps.access.load(this.deps.db, serverId, caller.userId);
    requireBits(access.base, Permission.BAN_MEMBERS, "list bans");
    return (await this.deps.moderation.listBans(this.deps.db, serverId)).map(banView);
  }

  /** Times a member out until `until` (future, ≤ 28 days ahead): MODERATE_MEMBERS, outranking them. */
  async timeout(
    caller: Caller,
    serverId: string,
    userId: string,
    input: { until: string; reason: string },
  ): Promise<{ userId: string; timedOutUntil: string }> {
    const reason = reasonOf(input.reason);
    const until = new Date(input.until);
    const now = this.now();
    if (Number.isNaN(until.getTime()) || until <= now || until.getTime() - now.getTime() > MAX_TIMEOUT_MS) {
      throw new BeepError("BAD_USER_INPUT", "A timeout ends in the future, at most 28 days ahead", {
        field: "until",
      });
    }
    await this.setTimeout(caller, serverId, userId, until, reason);
    return { userId, timedOutUntil: until.toISOString() };
  }

  /** Ends a member's timeout (MODERATE_MEMBERS, outranking them). */
  async clearTimeout(
    caller: Caller,
    serverId: string,
    userId: string,
    rawReason: string,
  ): Promise<{ userId: string; timedOutUntil: string }> {
    await this.setTimeout(caller, serverId, userId, null, reasonOf(rawReason));
    return { userId, timedOutUntil: "" };
  }

  /** A page of the audit log, newest first (VIEW_AUDIT_LOG). */
  async listAuditLog(
    caller: Caller,
    serverId: string,
    input: { before: string; limit: number; action: string },
  ): Promise<{ entries: AuditLogEntryView[]; nextCursor: string }> {
    const limit = input.limit === 0 ? 50 : input.limit;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_PAGE) {
      throw new BeepError("BAD_USER_INPUT", `Limit must be 1 to ${MAX_AUDIT_PAGE}`, { field: "limit" });
    }
    if (input.before !== "" && !isId(input.before)) {
      throw new BeepError("BAD_USER_INPUT", "Not a cursor", { field: "before" });
    }
    if (input.action !== "" && !AUDIT_ACTIONS.includes(input.action as AuditAction)) {
      throw new BeepError("BAD_USER_INPUT", "Unknown audit log action", { field: "action" });
    }
    const access = await this.deps.access.load(this.deps.db, serverId, caller.userId);
    requireBits(access.base, Permission.VIEW_AUDIT_LOG, "view the audit log");
    const rows = await this.deps.moderation.listAuditLog(this.deps.db, serverId, {
      before: input.before || undefined,
      limit,
      action: input.action || undefined,
    });
    const last = rows.at(-1);
    return {
      entries: rows.map(auditView),
      nextCursor: rows.length === limit && last ? String(last.id) : "",
    };
  }

  private async setTimeout(
    caller: Caller,
    serverId: string,
    userId: string,
    until: Date | null,
    reason: string,
  ): Promise<void> {
    await this.inServer(caller, serverId, async (trx, access) => {
      requireBits(access.base, Permission.MODERATE_MEMBERS, "time out members");
      if (!isId(userId) || !(await this.deps.repo.isMember(trx, serverId, userId))) {
        throw notFound("member", "userId");
      }
      await this.requireManageable(trx, access, userId, true, "time out");
      await this.deps.moderation.setTimeout(trx, serverId, userId, until);
      await emit(trx, [
        {
          type: "member.updated",
          payload: {
            serverId,
            userId,
            timedOutUntil: until ? until.toISOString() : null,
            ...(await memberPayload(trx, serverId, userId)),
          },
        },
      ]);
      await recordAudit(trx, {
        serverId,
        actorId: caller.userId,
        action: until ? "MEMBER_TIMEOUT" : "MEMBER_TIMEOUT_CLEAR",
        targetType: "member",
        targetId: userId,
        reason,
        changes: { timedOutUntil: until ? until.toISOString() : null },
      });
    });
    this.log(until ? "MEMBER_TIMED_OUT" : "MEMBER_TIMEOUT_CLEARED", caller, userId, { serverId, reason });
  }

  /** ROLE-4 via the engine's canManageMember: never oneself, never the owner, only below one's highest role. */
  private async requireManageable(
    trx: Transaction<ServersTables>,
    access: ServerAccess,
    userId: string,
    member: boolean,
    verb: string,
  ): Promise<void> {
    if (userId === access.userId) {
      throw new BeepError("BAD_USER_INPUT", `You cannot ${verb} yourself`, { field: "userId" });
    }
    const held = member
      ? new Set(await this.deps.repo.memberRoleIds(trx, access.server.id, userId))
      : new Set();
    const allowed = canManageMember(
      { memberId: access.userId, ownerId: access.server.owner_id, roles: access.memberRoles },
      { memberId: userId, roles: access.roles.filter((role) => held.has(role.id)) },
    );
    if (!allowed) {
      throw new BeepError("FORBIDDEN", `You can only ${verb} members below your highest role`);
    }
  }

  private inServer<T>(
    caller: Caller,
    serverId: string,
    work: (trx: Transaction<ServersTables>, access: ServerAccess) => Promise<T>,
  ): Promise<T> {
    return this.deps.db
      .transaction()
      .execute(async (trx) => work(trx, await this.deps.access.load(trx, serverId, caller.userId, true)));
  }

  private log(
    action: Uppercase<string>,
    caller: Caller,
    target: string,
    details: Record<string, unknown>,
  ): void {
    audit(this.deps.logger, { action, actor: caller.userId, target, outcome: "success", details });
  }
}

function reasonOf(value: string): string {
  const reason = value.trim();
  if (reason.length > MAX_REASON) {
    throw new BeepError("BAD_USER_INPUT", `Reason must be at most ${MAX_REASON} characters`, {
      field: "reason",
    });
  }
  return reason;
}

function banView(row: BanRow): BanView {
  return {
    serverId: String(row.server_id),
    userId: String(row.user_id),
    actorId: String(row.actor_id),
    reason: row.reason,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

function auditView(row: AuditLogRow): AuditLogEntryView {
  return {
    id: String(row.id),
    serverId: String(row.server_id),
    actorId: String(row.actor_id),
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    reason: row.reason,
    changesJson: JSON.stringify(row.changes ?? {}),
    createdAt: new Date(row.created_at).toISOString(),
  };
}
