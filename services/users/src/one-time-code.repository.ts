import type { Kysely, Selectable, Transaction } from "kysely";
import type { AccountRow } from "./account.repository.ts";
import type { OneTimeCodesTable, UsersTables } from "./users.tables.ts";

/** A one-time code row. */
export type OneTimeCodeRow = Selectable<OneTimeCodesTable>;

/** What a code is for. */
export type CodePurpose = OneTimeCodesTable["purpose"];

type Db = Kysely<UsersTables> | Transaction<UsersTables>;

/** SQL for `users.one_time_codes` and the contact columns of `users.accounts` (language, phone, verification). */
export class OneTimeCodeRepository {
  constructor(private readonly db: Kysely<UsersTables>) {}

  /** Runs work in one transaction. */
  transaction<T>(work: (trx: Transaction<UsersTables>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(work);
  }

  /** Codes created for the account and purpose since the date (sent ones count even when used). */
  async countSince(accountId: string, purpose: CodePurpose, since: Date): Promise<number> {
    const row = await this.db
      .selectFrom("one_time_codes")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("account_id", "=", accountId)
      .where("purpose", "=", purpose)
      .where("created_at", ">=", since)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Ends the account's live codes of this purpose, then stores the new one: only the newest code works. */
  async replace(trx: Db, code: Omit<OneTimeCodeRow, "attempts" | "created_at" | "used_at">): Promise<void> {
    await trx
      .updateTable("one_time_codes")
      .set({ used_at: new Date() })
      .where("account_id", "=", code.account_id)
      .where("purpose", "=", code.purpose)
      .where("used_at", "is", null)
      .execute();
    await trx.insertInto("one_time_codes").values(code).execute();
  }

  /** The account's newest unused, unexpired code of this purpose, locked. */
  findLiveForUpdate(
    trx: Transaction<UsersTables>,
    accountId: string,
    purpose: CodePurpose,
  ): Promise<OneTimeCodeRow | undefined> {
    return trx
      .selectFrom("one_time_codes")
      .selectAll()
      .where("account_id", "=", accountId)
      .where("purpose", "=", purpose)
      .where("used_at", "is", null)
      .where("expires_at", ">", new Date())
      .orderBy("created_at", "desc")
      .limit(1)
      .forUpdate()
      .executeTakeFirst();
  }

  /** The unused, unexpired code whose link token has this hash, locked. */
  findLiveByLinkForUpdate(
    trx: Transaction<UsersTables>,
    linkTokenHash: string,
  ): Promise<OneTimeCodeRow | undefined> {
    return trx
      .selectFrom("one_time_codes")
      .selectAll()
      .where("link_token_hash", "=", linkTokenHash)
      .where("used_at", "is", null)
      .where("expires_at", ">", new Date())
      .forUpdate()
      .executeTakeFirst();
  }

  /** Counts one wrong guess. */
  async addAttempt(trx: Db, id: string): Promise<void> {
    await trx
      .updateTable("one_time_codes")
      .set((eb) => ({ attempts: eb("attempts", "+", 1) }))
      .where("id", "=", id)
      .execute();
  }

  /** Marks a code used. */
  async markUsed(trx: Db, id: string): Promise<void> {
    await trx.updateTable("one_time_codes").set({ used_at: new Date() }).where("id", "=", id).execute();
  }

  /** Records that the account's current email was proven (no-op if already verified or the email changed). */
  async markEmailVerified(trx: Db, accountId: string, email: string): Promise<void> {
    await trx
      .updateTable("accounts")
      .set({ email_verified_at: new Date() })
      .where("id", "=", accountId)
      .where("email_normalized", "=", email.toLowerCase())
      .where("email_verified_at", "is", null)
      .execute();
  }

  /** The account with this phone, if any. */
  findAccountByPhone(phone: string): Promise<AccountRow | undefined> {
    return this.db.selectFrom("accounts").selectAll().where("phone", "=", phone).executeTakeFirst();
  }

  /** Sets language and/or phone; resolves to the row, or `conflict` when the phone belongs to another account. */
  async updateContact(
    accountId: string,
    changes: { language?: string; phone?: string | null },
  ): Promise<{ row?: AccountRow; conflict?: true }> {
    try {
      const row = await this.db
        .updateTable("accounts")
        .set({
          ...(changes.language !== undefined && { language: changes.language }),
          ...(changes.phone !== undefined && { phone: changes.phone }),
          updated_at: new Date(),
        })
        .where("id", "=", accountId)
        .returningAll()
        .executeTakeFirst();
      return { row };
    } catch (error) {
      if ((error as { code?: string }).code === "23505") return { conflict: true };
      throw error;
    }
  }
}
