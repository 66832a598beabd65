import type { Kysely, Selectable, Transaction } from "kysely";
import type { SessionsTable, UsersTables } from "./users.tables.ts";

/** A session row. */
export type SessionRow = Selectable<SessionsTable>;

type Db = Kysely<UsersTables> | Transaction<UsersTables>;

/** SQL for `users.sessions` and `users.refresh_tokens`. */
export class SessionRepository {
  constructor(private readonly db: Kysely<UsersTables>) {}

  /** Creates a session with its first refresh token, atomically. */
  create(
    session: { id: string; accountId: string; device: string; ip: string; expiresAt: Date },
    refreshTokenHash: string,
  ): Promise<void> {
    return this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto("sessions")
        .values({
          id: session.id,
          account_id: session.accountId,
          device: session.device,
          ip: session.ip,
          expires_at: session.expiresAt,
        })
        .execute();
      await trx
        .insertInto("refresh_tokens")
        .values({ token_hash: refreshTokenHash, session_id: session.id })
        .execute();
    });
  }

  /** The refresh token and its session, locked for rotation. */
  findRefreshTokenForUpdate(
    trx: Transaction<UsersTables>,
    tokenHash: string,
  ): Promise<{ used_at: Date | null; session: SessionRow } | undefined> {
    return trx
      .selectFrom("refresh_tokens as t")
      .innerJoin("sessions as s", "s.id", "t.session_id")
      .select(["t.used_at", "s.id", "s.account_id", "s.device", "s.ip", "s.created_at", "s.last_used_at"])
      .select(["s.expires_at", "s.revoked_at", "s.revoked_reason"])
      .where("t.token_hash", "=", tokenHash)
      .forUpdate()
      .executeTakeFirst()
      .then((row) => {
        if (!row) return undefined;
        const { used_at, ...session } = row;
        return { used_at, session };
      });
  }

  /** Marks a token used and stores its successor. */
  async rotate(trx: Db, oldHash: string, newHash: string, sessionId: string): Promise<void> {
    await trx
      .updateTable("refresh_tokens")
      .set({ used_at: new Date() })
      .where("token_hash", "=", oldHash)
      .execute();
    await trx.insertInto("refresh_tokens").values({ token_hash: newHash, session_id: sessionId }).execute();
    await trx.updateTable("sessions").set({ last_used_at: new Date() }).where("id", "=", sessionId).execute();
  }

  /** Revokes a session (its whole refresh-token family). */
  async revoke(trx: Db, sessionId: string, reason: string): Promise<void> {
    await trx
      .updateTable("sessions")
      .set({ revoked_at: new Date(), revoked_reason: reason })
      .where("id", "=", sessionId)
      .where("revoked_at", "is", null)
      .execute();
  }
}
