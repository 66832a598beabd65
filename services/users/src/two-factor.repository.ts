import { type Kysely, type Selectable, sql, type Transaction } from "kysely";
import type { SignInChallengesTable, TotpCredentialsTable, UsersTables } from "./users.tables.ts";

/** A TOTP credential row. */
export type TotpCredentialRow = Selectable<TotpCredentialsTable>;

/** A sign-in challenge row. */
export type SignInChallengeRow = Selectable<SignInChallengesTable>;

type Db = Kysely<UsersTables> | Transaction<UsersTables>;

/** SQL for `users.totp_credentials`, `users.totp_recovery_codes` and `users.sign_in_challenges`. */
export class TwoFactorRepository {
  constructor(private readonly db: Kysely<UsersTables>) {}

  /** The account's credential (pending or confirmed), if any; locked when `forUpdate`. */
  findCredential(
    accountId: string,
    db: Db = this.db,
    forUpdate = false,
  ): Promise<TotpCredentialRow | undefined> {
    const query = db.selectFrom("totp_credentials").selectAll().where("account_id", "=", accountId);
    return (forUpdate ? query.forUpdate() : query).executeTakeFirst();
  }

  /** Whether the account has a confirmed credential. */
  async isEnabled(accountId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("totp_credentials")
      .select("account_id")
      .where("account_id", "=", accountId)
      .where("confirmed_at", "is not", null)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Stores a new pending secret, replacing a pending one; false when a confirmed credential exists. */
  async savePending(accountId: string, secret: string): Promise<boolean> {
    const row = await this.db
      .insertInto("totp_credentials")
      .values({ account_id: accountId, secret })
      .onConflict((oc) =>
        oc
          .column("account_id")
          .doUpdateSet({ secret, last_used_step: null, created_at: new Date() })
          .where("totp_credentials.confirmed_at", "is", null),
      )
      .returning("account_id")
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Records `step` as the last accepted time step, only if it is later than
   * the stored one — one atomic UPDATE, so two requests racing with the same
   * code cannot both win. With `confirm`, also turns a pending credential on.
   */
  async acceptStep(trx: Db, accountId: string, step: number, confirm = false): Promise<boolean> {
    const result = await trx
      .updateTable("totp_credentials")
      .set({ last_used_step: step, ...(confirm && { confirmed_at: new Date() }) })
      .where("account_id", "=", accountId)
      .where("confirmed_at", confirm ? "is" : "is not", null)
      .where((eb) => eb.or([eb("last_used_step", "is", null), eb("last_used_step", "<", String(step))]))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Replaces every recovery code of the account with these hashes. */
  async replaceRecoveryCodes(trx: Db, accountId: string, hashes: string[]): Promise<void> {
    await trx.deleteFrom("totp_recovery_codes").where("account_id", "=", accountId).execute();
    await trx
      .insertInto("totp_recovery_codes")
      .values(hashes.map((code_hash) => ({ account_id: accountId, code_hash })))
      .execute();
  }

  /** Marks an unused recovery code used; false when it is unknown or already used (atomic). */
  async useRecoveryCode(trx: Db, accountId: string, hash: string): Promise<boolean> {
    const result = await trx
      .updateTable("totp_recovery_codes")
      .set({ used_at: new Date() })
      .where("account_id", "=", accountId)
      .where("code_hash", "=", hash)
      .where("used_at", "is", null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Unused recovery codes left. */
  async countUnusedRecoveryCodes(accountId: string): Promise<number> {
    const row = await this.db
      .selectFrom("totp_recovery_codes")
      .select(sql<string>`count(*)`.as("n"))
      .where("account_id", "=", accountId)
      .where("used_at", "is", null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Removes the credential, its recovery codes and open challenges. */
  async deleteAll(trx: Db, accountId: string): Promise<void> {
    await trx.deleteFrom("totp_credentials").where("account_id", "=", accountId).execute();
    await trx.deleteFrom("totp_recovery_codes").where("account_id", "=", accountId).execute();
    await trx.deleteFrom("sign_in_challenges").where("account_id", "=", accountId).execute();
  }

  /** Stores a challenge by its token hash. */
  async createChallenge(tokenHash: string, accountId: string, expiresAt: Date): Promise<void> {
    await this.db
      .insertInto("sign_in_challenges")
      .values({ token_hash: tokenHash, account_id: accountId, expires_at: expiresAt })
      .execute();
  }

  /** The account a challenge belongs to, without locking it. */
  async challengeAccount(trx: Db, tokenHash: string): Promise<string | undefined> {
    const row = await trx
      .selectFrom("sign_in_challenges")
      .select("account_id")
      .where("token_hash", "=", tokenHash)
      .executeTakeFirst();
    return row ? String(row.account_id) : undefined;
  }

  /** A challenge that is unused, unexpired and under the attempt limit, locked for this transaction. */
  findLiveChallengeForUpdate(
    trx: Transaction<UsersTables>,
    tokenHash: string,
    maxAttempts: number,
    now: Date,
  ): Promise<SignInChallengeRow | undefined> {
    return trx
      .selectFrom("sign_in_challenges")
      .selectAll()
      .where("token_hash", "=", tokenHash)
      .where("used_at", "is", null)
      .where("expires_at", ">", now)
      .where("failed_attempts", "<", maxAttempts)
      .forUpdate()
      .executeTakeFirst();
  }

  /** Counts one wrong code against a challenge. */
  async recordFailedAttempt(trx: Db, tokenHash: string): Promise<void> {
    await trx
      .updateTable("sign_in_challenges")
      .set((eb) => ({ failed_attempts: eb("failed_attempts", "+", 1) }))
      .where("token_hash", "=", tokenHash)
      .execute();
  }

  /** Marks a challenge answered, so it cannot be answered again. */
  async consumeChallenge(trx: Db, tokenHash: string): Promise<void> {
    await trx
      .updateTable("sign_in_challenges")
      .set({ used_at: new Date() })
      .where("token_hash", "=", tokenHash)
      .execute();
  }

  /** Deletes challenges that expired before `before` (housekeeping). */
  async deleteExpiredChallenges(before: Date): Promise<void> {
    await this.db.deleteFrom("sign_in_challenges").where("expires_at", "<", before).execute();
  }
}
