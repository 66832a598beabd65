import type { Kysely, Selectable, Transaction } from "kysely";
import type { AccountsTable, UsersTables } from "./users.tables.ts";

/** An account row. */
export type AccountRow = Selectable<AccountsTable>;

/** Profile fields a user may change. */
export interface ProfileChanges {
  displayName?: string;
  firstName?: string;
  lastName?: string;
  bio?: string;
}

type Db = Kysely<UsersTables> | Transaction<UsersTables>;

/** Columns with a default that an insert may leave out. */
type OptionalColumn = "language" | "email_verified_at" | "phone";

/** SQL for `users.accounts`. */
export class AccountRepository {
  constructor(private readonly db: Kysely<UsersTables>) {}

  /** The account with this email (any case), if any. */
  findByEmail(email: string): Promise<AccountRow | undefined> {
    return this.db
      .selectFrom("accounts")
      .selectAll()
      .where("email_normalized", "=", email.toLowerCase())
      .executeTakeFirst();
  }

  /** The account with this id, if any. */
  findById(id: string, db: Db = this.db): Promise<AccountRow | undefined> {
    return db.selectFrom("accounts").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /** Inserts an account; resolves to the constraint name on a unique violation instead of throwing. */
  async insert(
    trx: Db,
    account: Omit<
      AccountRow,
      "created_at" | "updated_at" | "email_normalized" | "username_normalized" | OptionalColumn
    > &
      Partial<Pick<AccountRow, OptionalColumn>>,
  ): Promise<{ row?: AccountRow; conflict?: "email" | "username" }> {
    try {
      const row = await trx
        .insertInto("accounts")
        .values({
          ...account,
          email_normalized: account.email.toLowerCase(),
          username_normalized: account.username.toLowerCase(),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { row };
    } catch (error) {
      const pgError = error as { code?: string; constraint?: string };
      if (pgError.code === "23505") {
        return { conflict: pgError.constraint?.includes("username") ? "username" : "email" };
      }
      throw error;
    }
  }

  /** Applies profile changes and bumps `updated_at`; resolves to the new row. */
  updateProfile(trx: Db, id: string, changes: ProfileChanges): Promise<AccountRow | undefined> {
    return trx
      .updateTable("accounts")
      .set({
        ...(changes.displayName !== undefined && { display_name: changes.displayName }),
        ...(changes.firstName !== undefined && { first_name: changes.firstName }),
        ...(changes.lastName !== undefined && { last_name: changes.lastName }),
        ...(changes.bio !== undefined && { bio: changes.bio }),
        updated_at: new Date(),
      })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirst();
  }
}
