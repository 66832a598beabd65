import type { Kysely, Selectable, Transaction } from "kysely";
import type { AccountRow } from "./account.repository.ts";
import type { OidcFlowsTable, OidcLinkTokensTable } from "./sso.tables.ts";
import type { UsersTables } from "./users.tables.ts";

type Db = Kysely<UsersTables> | Transaction<UsersTables>;

/** A started OIDC sign-in. */
export type OidcFlowRow = Selectable<OidcFlowsTable>;
/** An identity waiting to be linked. */
export type OidcLinkTokenRow = Selectable<OidcLinkTokensTable>;

/** SQL for `oidc_flows`, `oidc_link_tokens` and the OIDC rows of `external_identities`. */
export class SsoRepository {
  constructor(private readonly db: Kysely<UsersTables>) {}

  /** Stores a started flow; also sweeps expired flows and link tokens. */
  async insertFlow(flow: Omit<OidcFlowRow, "created_at">): Promise<void> {
    await this.db.deleteFrom("oidc_flows").where("expires_at", "<", new Date()).execute();
    await this.db.deleteFrom("oidc_link_tokens").where("expires_at", "<", new Date()).execute();
    await this.db.insertInto("oidc_flows").values(flow).execute();
  }

  /** Deletes and returns the unexpired flow with this cookie hash: a flow is used once. */
  takeFlow(cookieHash: string): Promise<OidcFlowRow | undefined> {
    return this.db
      .deleteFrom("oidc_flows")
      .where("cookie_hash", "=", cookieHash)
      .where("expires_at", ">", new Date())
      .returningAll()
      .executeTakeFirst();
  }

  /** The account linked to this provider identity, touching `last_used_at`. */
  async linkedAccount(provider: string, subject: string): Promise<AccountRow | undefined> {
    const link = await this.db
      .updateTable("external_identities")
      .set({ last_used_at: new Date() })
      .where("provider", "=", provider)
      .where("subject", "=", subject)
      .returning("account_id")
      .executeTakeFirst();
    if (!link) return undefined;
    return this.db.selectFrom("accounts").selectAll().where("id", "=", link.account_id).executeTakeFirst();
  }

  /** Links a provider identity to an account; false when the identity is already linked. */
  async link(trx: Db, provider: string, subject: string, accountId: string): Promise<boolean> {
    const inserted = await trx
      .insertInto("external_identities")
      .values({ provider, subject, account_id: accountId })
      .onConflict((c) => c.columns(["provider", "subject"]).doNothing())
      .returning("account_id")
      .executeTakeFirst();
    return inserted !== undefined;
  }

  /** Whether a username (case-insensitive) is taken. */
  async usernameTaken(username: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("accounts")
      .select("id")
      .where("username_normalized", "=", username.toLowerCase())
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Stores a link token. */
  async insertLinkToken(row: Omit<OidcLinkTokenRow, "created_at" | "failed_attempts">): Promise<void> {
    await this.db.insertInto("oidc_link_tokens").values(row).execute();
  }

  /** The unexpired link token with this hash, locked for the caller's transaction. */
  findLinkTokenForUpdate(trx: Db, tokenHash: string): Promise<OidcLinkTokenRow | undefined> {
    return trx
      .selectFrom("oidc_link_tokens")
      .selectAll()
      .where("token_hash", "=", tokenHash)
      .where("expires_at", ">", new Date())
      .forUpdate()
      .executeTakeFirst();
  }

  /** Counts a wrong password; the token dies at `maxAttempts`. */
  async failLinkAttempt(tokenHash: string, maxAttempts: number): Promise<void> {
    const row = await this.db
      .updateTable("oidc_link_tokens")
      .set((eb) => ({ failed_attempts: eb("failed_attempts", "+", 1) }))
      .where("token_hash", "=", tokenHash)
      .returning("failed_attempts")
      .executeTakeFirst();
    if (row && row.failed_attempts >= maxAttempts) {
      await this.db.deleteFrom("oidc_link_tokens").where("token_hash", "=", tokenHash).execute();
    }
  }

  /** Deletes a used link token. */
  async deleteLinkToken(trx: Db, tokenHash: string): Promise<void> {
    await trx.deleteFrom("oidc_link_tokens").where("token_hash", "=", tokenHash).execute();
  }
}
