import type { AccessClaims } from "@beep/auth";
import { BeepError } from "@beep/errors";
import { audit, type Logger } from "@beep/observability";
import type { Kysely } from "kysely";
import type { SessionLiveness } from "./session-liveness.ts";
import { revokeSessions } from "./session-revocation.ts";
import type { SessionsRepository } from "./sessions.repository.ts";
import type { UsersTables } from "./users.tables.ts";

export type { SessionRevokedEvent } from "./session-revocation.ts";

/** A session as its owner sees it. */
export interface SessionView {
  id: string;
  device: string;
  ip: string;
  createdAt: string;
  lastUsedAt: string;
  current: boolean;
}

/** What SessionsService needs. */
export interface SessionsServiceDeps {
  db: Kysely<UsersTables>;
  sessions: SessionsRepository;
  liveness: SessionLiveness;
  logger: Logger;
}

/** The caller's sessions (AUTH-4): list, revoke one, sign out here or everywhere. */
export class SessionsService {
  constructor(private readonly deps: SessionsServiceDeps) {}

  /** The caller's live sessions, newest first, the current one flagged. */
  async list(caller: AccessClaims): Promise<SessionView[]> {
    const rows = await this.deps.sessions.listLive(caller.userId);
    return rows.map((row) => ({
      id: String(row.id),
      device: row.device,
      ip: row.ip,
      createdAt: new Date(row.created_at).toISOString(),
      lastUsedAt: new Date(row.last_used_at).toISOString(),
      current: String(row.id) === caller.sessionId,
    }));
  }

  /** Revokes one of the caller's sessions; any other id (someone else's, ended, malformed) is NOT_FOUND. */
  async revoke(caller: AccessClaims, sessionId: string): Promise<string> {
    const revoked = /^\d{1,19}$/.test(sessionId)
      ? await this.revokeWhere(caller, { sessionId }, "revoked")
      : [];
    if (revoked.length === 0) throw new BeepError("NOT_FOUND", "No such session", { field: "sessionId" });
    audit(this.deps.logger, {
      action: "SESSION_REVOKED",
      actor: caller.userId,
      target: sessionId,
      outcome: "success",
      details: { current: sessionId === caller.sessionId },
    });
    return sessionId;
  }

  /** Ends the caller's current session. */
  async signOut(caller: AccessClaims): Promise<string> {
    await this.revokeWhere(caller, { sessionId: caller.sessionId }, "sign_out");
    audit(this.deps.logger, {
      action: "SIGN_OUT",
      actor: caller.userId,
      target: caller.sessionId,
      outcome: "success",
    });
    return caller.sessionId;
  }

  /** Ends all the caller's sessions, or all but the current one; returns how many ended. */
  async signOutEverywhere(caller: AccessClaims, keepCurrent: boolean): Promise<number> {
    const revoked = await this.revokeWhere(
      caller,
      keepCurrent ? { exceptId: caller.sessionId } : {},
      "sign_out_everywhere",
    );
    audit(this.deps.logger, {
      action: "SIGN_OUT",
      actor: caller.userId,
      target: caller.sessionId,
      outcome: "success",
      details: { everywhere: true, keepCurrent, revokedCount: revoked.length },
    });
    return revoked.length;
  }

  private async revokeWhere(
    caller: AccessClaims,
    which: { sessionId: string } | { exceptId?: string },
    reason: string,
  ): Promise<string[]> {
    const revoked = await this.deps.db
      .transaction()
      .execute((trx) => revokeSessions(trx, this.deps.sessions, caller.userId, which, reason));
    this.deps.liveness.forget(revoked);
    return revoked;
  }
}
