import type { Kysely } from "kysely";
import type { ServersTables } from "./servers.tables.ts";

type Db = Kysely<ServersTables>;

/** A ban row as read. */
export interface BanRow {
  server_id: string;
  user_id: string;
  actor_id: string;
  reason: string;
  created_at: Date;
}

/** An audit log row as read. */
export interface AuditLogRow {
  id: string;
  server_id: string;
  actor_id: string;
  action: string;
  target_type: string;
  target_id: string;
  reason: string;
  changes: Record<string, unknown>;
  created_at: Date;
}

/** SQL of bans, timeouts and the audit log (schema `servers`), and nothing else. */
export class ModerationRepository {
  /** Records or re-records a ban (a second ban updates who and why). */
  async upsertBan(db: Db, row: { server_id: string; user_id: string; actor_id: string; reason: string }) {
    return db
      .insertInto("bans")
      .values(row)
      .onConflict((oc) =>
        oc.columns(["server_id", "user_id"]).doUpdateSet({ actor_id: row.actor_id, reason: row.reason }),
      )
      .returningAll()
      .executeTakeFirstOrThrow() as Promise<BanRow>;
  }

  async deleteBan(db: Db, serverId: string, userId: string): Promise<boolean> {
    const result = await db
      .deleteFrom("bans")
      .where("server_id", "=", serverId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async listBans(db: Db, serverId: string): Promise<BanRow[]> {
    return db
      .selectFrom("bans")
      .selectAll()
      .where("server_id", "=", serverId)
      .orderBy("created_at", "desc")
      .orderBy("user_id")
      .execute() as Promise<BanRow[]>;
  }

  /** Sets or clears a member's timeout; false if they are not a member. */
  async setTimeout(db: Db, serverId: string, userId: string, until: Date | null): Promise<boolean> {
    const result = await db
      .updateTable("members")
      .set({ timed_out_until: until })
      .where("server_id", "=", serverId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** A page of the server's audit log, newest first. */
  async listAuditLog(
    db: Db,
    serverId: string,
    options: { before?: string | undefined; limit: number; action?: string | undefined },
  ): Promise<AuditLogRow[]> {
    let query = db.selectFrom("audit_log").selectAll().where("server_id", "=", serverId);
    if (options.before !== undefined) query = query.where("id", "<", options.before);
    if (options.action !== undefined) query = query.where("action", "=", options.action);
    return query.orderBy("id", "desc").limit(options.limit).execute() as Promise<AuditLogRow[]>;
  }
}

/** Whether the user is banned from the server. */
export async function isBanned(db: Db, serverId: string, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom("bans")
    .select("user_id")
    .where("server_id", "=", serverId)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  return row !== undefined;
}

/** Until when the member is timed out (null if never, or not a member). */
export async function timedOutUntil(db: Db, serverId: string, userId: string): Promise<Date | null> {
  const row = await db
    .selectFrom("members")
    .select("timed_out_until")
    .where("server_id", "=", serverId)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  return row?.timed_out_until ? new Date(row.timed_out_until) : null;
}

/** One audit log row to write. */
export interface AuditEntry {
  id: string;
  server_id: string;
  actor_id: string;
  action: string;
  target_type: string;
  target_id: string;
  reason?: string;
  changes?: Record<string, unknown>;
}

export async function insertAuditLog(db: Db, entry: AuditEntry): Promise<void> {
  const { changes, ...row } = entry;
  await db
    .insertInto("audit_log")
    .values({ ...row, changes: JSON.stringify(changes ?? {}) })
    .execute();
}
