import type { Kysely, Selectable, Transaction } from "kysely";
import type { AccountRow } from "./account.repository.ts";
import type { ProfilesTable, UsersTables } from "./users.tables.ts";

/** A `users.profiles` row. */
export type ProfileRow = Selectable<ProfilesTable>;

/** Which image of a profile: the round picture or the wide banner. */
export type PictureKind = "picture" | "banner";

type Db = Kysely<UsersTables> | Transaction<UsersTables>;

/** SQL of the account feature: profile extras, username and password changes, deletion and export reads. */
export class ProfileRepository {
  constructor(private readonly db: Kysely<UsersTables>) {}

  /** The profile extras of an account, if it ever set any; `forUpdate` locks the row. */
  find(accountId: string, db: Db = this.db, forUpdate = false): Promise<ProfileRow | undefined> {
    const query = db.selectFrom("profiles").selectAll().where("account_id", "=", accountId);
    return (forUpdate ? query.forUpdate() : query).executeTakeFirst();
  }

  /** Sets the custom status, creating the row on first use. */
  setStatus(
    trx: Db,
    accountId: string,
    status: { text: string; emoji: string; expiresAt: Date | null },
  ): Promise<ProfileRow> {
    const values = {
      status_text: status.text,
      status_emoji: status.emoji,
      status_expires_at: status.expiresAt,
      status_set: true,
      updated_at: new Date(),
    };
    return trx
      .insertInto("profiles")
      .values({ account_id: accountId, ...values })
      .onConflict((oc) => oc.column("account_id").doUpdateSet(values))
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Clears the custom status, creating the row on first use. */
  clearStatus(trx: Db, accountId: string): Promise<ProfileRow> {
    const values = {
      status_text: "",
      status_emoji: "",
      status_expires_at: null,
      status_set: false,
      updated_at: new Date(),
    };
    return trx
      .insertInto("profiles")
      .values({ account_id: accountId, ...values })
      .onConflict((oc) => oc.column("account_id").doUpdateSet(values))
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Points the picture or banner at a new blob key (or none), creating the row on first use. */
  setPictureKey(trx: Db, accountId: string, kind: PictureKind, key: string | null): Promise<ProfileRow> {
    const values =
      kind === "picture"
        ? { picture_key: key, updated_at: new Date() }
        : { banner_key: key, updated_at: new Date() };
    return trx
      .insertInto("profiles")
      .values({ account_id: accountId, ...values })
      .onConflict((oc) => oc.column("account_id").doUpdateSet(values))
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Sets the username; resolves to `conflict` when another account holds it in any case. */
  async changeUsername(
    trx: Db,
    accountId: string,
    username: string,
  ): Promise<{ row?: AccountRow; conflict?: true }> {
    try {
      const row = await trx
        .updateTable("accounts")
        .set({ username, username_normalized: username.toLowerCase(), updated_at: new Date() })
        .where("id", "=", accountId)
        .returningAll()
        .executeTakeFirst();
      return row ? { row } : {};
    } catch (error) {
      if ((error as { code?: string }).code === "23505") return { conflict: true };
      throw error;
    }
  }

  /** Replaces the password hash. */
  async setPasswordHash(trx: Db, accountId: string, passwordHash: string): Promise<boolean> {
    const result = await trx
      .updateTable("accounts")
      .set({ password_hash: passwordHash, updated_at: new Date() })
      .where("id", "=", accountId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Deletes the account; sessions, refresh tokens, external identities and profile extras cascade. */
  async deleteAccount(trx: Db, accountId: string): Promise<boolean> {
    const result = await trx.deleteFrom("accounts").where("id", "=", accountId).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /** Every session of the account, newest first, without token hashes. */
  sessionsOf(accountId: string) {
    return this.db
      .selectFrom("sessions")
      .select([
        "id",
        "device",
        "ip",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "revoked_reason",
      ])
      .where("account_id", "=", accountId)
      .orderBy("created_at", "desc")
      .execute();
  }

  /** The providers linked to the account (never the subjects' secrets; there are none stored). */
  externalIdentitiesOf(accountId: string) {
    return this.db
      .selectFrom("external_identities")
      .select(["provider", "created_at", "last_used_at"])
      .where("account_id", "=", accountId)
      .orderBy("created_at")
      .execute();
  }
}
