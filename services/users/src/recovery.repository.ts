import { type Kysely, type Selectable, sql, type Transaction } from "kysely";
import type { PasswordResetChallengesTable } from "./recovery.tables.ts";
import type { UsersTables } from "./users.tables.ts";

/** A pending reset waiting for the second factor. */
export type ResetChallengeRow = Selectable<PasswordResetChallengesTable>;

type Db = Kysely<UsersTables> | Transaction<UsersTables>;

/** SQL of forgot password and email change (AUTH-12, AUTH-8): reset challenges and the email switch. */
export class RecoveryRepository {
  constructor(private readonly db: Kysely<UsersTables>) {}

  /** Stores a reset challenge by its token hash. */
  async createChallenge(
    trx: Db,
    row: { tokenHash: string; accountId: string; passwordHash: string; expiresAt: Date },
  ): Promise<void> {
    await trx
      .insertInto("password_reset_challenges")
      .values({
        token_hash: row.tokenHash,
        account_id: row.accountId,
        password_hash: row.passwordHash,
        expires_at: row.expiresAt,
      })
      .execute();
  }

  /** A challenge that is unused, unexpired and under the attempt limit, locked. */
  findLiveChallengeForUpdate(
    trx: Transaction<UsersTables>,
    tokenHash: string,
    maxAttempts: number,
  ): Promise<ResetChallengeRow | undefined> {
    return trx
      .selectFrom("password_reset_challenges")
      .selectAll()
      .where("token_hash", "=", tokenHash)
      .where("used_at", "is", null)
      .where("expires_at", ">", new Date())
      .where("failed_attempts", "<", maxAttempts)
      .forUpdate()
      .executeTakeFirst();
  }

  /** Counts one wrong second-factor code against a challenge. */
  async recordFailedAttempt(trx: Db, tokenHash: string): Promise<void> {
    await trx
      .updateTable("password_reset_challenges")
      .set((eb) => ({ failed_attempts: eb("failed_attempts", "+", 1) }))
      .where("token_hash", "=", tokenHash)
      .execute();
  }

  /** Ends every open challenge of the account (the one answered included). */
  async endChallenges(trx: Db, accountId: string): Promise<void> {
    await trx
      .updateTable("password_reset_challenges")
      .set({ used_at: new Date() })
      .where("account_id", "=", accountId)
      .where("used_at", "is", null)
      .execute();
  }

  /** Deletes challenges that expired before `before` (housekeeping). */
  async deleteExpiredChallenges(before: Date): Promise<void> {
    await this.db.deleteFrom("password_reset_challenges").where("expires_at", "<", before).execute();
  }

  /** Whether another account holds this email (any case). */
  async emailTaken(email: string, exceptAccountId: string, db: Db = this.db): Promise<boolean> {
    const row = await db
      .selectFrom("accounts")
      .select("id")
      .where("email_normalized", "=", email.toLowerCase())
      .where("id", "<>", exceptAccountId)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Sets the account's email, verified now; resolves to the new row, or
   * `conflict` when another account holds the address (unique index).
   */
  async switchEmail(
    trx: Transaction<UsersTables>,
    accountId: string,
    email: string,
  ): Promise<{ row?: Selectable<UsersTables["accounts"]>; conflict?: true }> {
    if (await this.emailTaken(email, accountId, trx)) return { conflict: true };
    // Why a savepoint: a unique violation (a racing sign-up) must not abort the caller's transaction.
    await sql`savepoint switch_email`.execute(trx);
    try {
      const row = await trx
        .updateTable("accounts")
        .set({
          email,
          email_normalized: email.toLowerCase(),
          email_verified_at: new Date(),
          updated_at: new Date(),
        })
        .where("id", "=", accountId)
        .returningAll()
        .executeTakeFirst();
      await sql`release savepoint switch_email`.execute(trx);
      return { row };
    } catch (error) {
      if ((error as { code?: string }).code !== "23505") throw error;
      await sql`rollback to savepoint switch_email`.execute(trx);
      return { conflict: true };
    }
  }

  /** Ends the account's live codes of a purpose (e.g. reset codes mailed to an address no longer its own). */
  async endCodes(trx: Db, accountId: string, purpose: "reset_password"): Promise<void> {
    await trx
      .updateTable("one_time_codes")
      .set({ used_at: new Date() })
      .where("account_id", "=", accountId)
      .where("purpose", "=", purpose)
      .where("used_at", "is", null)
      .execute();
  }
}
