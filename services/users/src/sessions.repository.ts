import type { Kysely, Transaction } from "kysely";
import type { UsersTables } from "./users.tables.ts";

type Db = Kysely<UsersTables> | Transaction<UsersTables>;

/** A live session as its owner lists it. */
export interface LiveSessionRow {
  id: string;
  device: string;
  ip: string;
  created_at: Date;
  last_used_at: Date;
}

/** Who owns a session and whether it ended. */
export interface SessionStateRow {
  account_id: string;
  revoked_at: Date | null;
  expires_at: Date;
}

/** SQL of the sessions feature (AUTH-4): list, revoke, and the liveness of sessions. */
export class SessionsRepository {
  constructor(private readonly db: Kysely<UsersTables>) {}

  /** The account's sessions that are neither revoked nor expired, newest first. */
  listLive(accountId: string): Promise<LiveSessionRow[]> {
    return this.db
      .selectFrom("sessions")
      .select(["id", "device", "ip", "created_at", "last_used_at"])
      .where("account_id", "=", accountId)
      .where("revoked_at", "is", null)
      .where("expires_at", ">", new Date())
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .execute();
  }

  /** Revokes live sessions of the account (one id, or all but `exceptId`); returns the ids revoked. */
  async revoke(
    trx: Db,
    accountId: string,
    which: { sessionId: string } | { exceptId?: string },
    reason: string,
  ): Promise<string[]> {
    let query = trx
      .updateTable("sessions")
      .set({ revoked_at: new Date(), revoked_reason: reason })
      .where("account_id", "=", accountId)
      .where("revoked_at", "is", null)
      .where("expires_at", ">", new Date());
    if ("sessionId" in which) query = query.where("id", "=", which.sessionId);
    else if (which.exceptId !== undefined) query = query.where("id", "<>", which.exceptId);
    const rows = await query.returning("id").execute();
    return rows.map((row) => String(row.id));
  }

  /** Owner and state of each existing session among `sessionIds` (one index scan for all). */
  states(sessionIds: readonly string[]): Promise<Array<SessionStateRow & { id: string }>> {
    if (sessionIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom("sessions")
      .select(["id", "account_id", "revoked_at", "expires_at"])
      .where("id", "in", [...sessionIds])
      .execute();
  }
}
