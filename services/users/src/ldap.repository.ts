import type { Kysely, Transaction } from "kysely";
import type { AccountRow } from "./account.repository.ts";
import type { UsersTables } from "./users.tables.ts";

type Db = Kysely<UsersTables> | Transaction<UsersTables>;

/** `external_identities.provider` of LDAP links. */
export const LDAP_PROVIDER = "ldap";

/** SQL for LDAP links (`users.external_identities` with provider `ldap`) and the lookups sign-in needs. */
export class LdapRepository {
  /** The account linked to this directory entry, locked for the sign-in's transaction. */
  findLinkedAccount(trx: Db, subject: string): Promise<AccountRow | undefined> {
    return trx
      .selectFrom("external_identities as link")
      .innerJoin("accounts", "accounts.id", "link.account_id")
      .selectAll("accounts")
      .where("link.provider", "=", LDAP_PROVIDER)
      .where("link.subject", "=", subject)
      .forUpdate()
      .executeTakeFirst();
  }

  /** Records that the link was used now. */
  async touchLink(trx: Db, subject: string): Promise<void> {
    await trx
      .updateTable("external_identities")
      .set({ last_used_at: new Date() })
      .where("provider", "=", LDAP_PROVIDER)
      .where("subject", "=", subject)
      .execute();
  }

  /** Links a directory entry to an account. */
  async insertLink(trx: Db, subject: string, accountId: string): Promise<void> {
    await trx
      .insertInto("external_identities")
      .values({ provider: LDAP_PROVIDER, subject, account_id: accountId })
      .execute();
  }

  /** True when an account already uses this email (any case). */
  async emailTaken(trx: Db, email: string): Promise<boolean> {
    const row = await trx
      .selectFrom("accounts")
      .select("id")
      .where("email_normalized", "=", email.toLowerCase())
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Which of these usernames (compared lower-cased) are taken. */
  async takenUsernames(trx: Db, usernames: string[]): Promise<Set<string>> {
    if (usernames.length === 0) return new Set();
    const rows = await trx
      .selectFrom("accounts")
      .select("username_normalized")
      .where(
        "username_normalized",
        "in",
        usernames.map((name) => name.toLowerCase()),
      )
      .execute();
    return new Set(rows.map((row) => row.username_normalized));
  }
}
