import { type Kysely, sql } from "kysely";
import type { UsersTables } from "./users.tables.ts";

/** A stored signing key pair as JWKs. */
export interface StoredSigningKey {
  kid: string;
  privateJwk: Record<string, unknown>;
  publicJwk: Record<string, unknown>;
  createdAt: Date;
}

/** SQL for `users.signing_keys`. */
export class SigningKeyRepository {
  constructor(private readonly db: Kysely<UsersTables>) {}

  /** Keys not retired, newest first. */
  async listActive(): Promise<StoredSigningKey[]> {
    const rows = await this.db
      .selectFrom("signing_keys")
      .select(["kid", "private_jwk", "public_jwk", "created_at"])
      .where("retired_at", "is", null)
      .orderBy("seq", "desc")
      .execute();
    return rows.map((row) => ({
      kid: row.kid,
      privateJwk: row.private_jwk,
      publicJwk: row.public_jwk,
      createdAt: row.created_at,
    }));
  }

  /** Stores a new key pair. */
  async insert(key: Omit<StoredSigningKey, "createdAt">): Promise<void> {
    await this.db
      .insertInto("signing_keys")
      .values({
        kid: key.kid,
        private_jwk: JSON.stringify(key.privateJwk),
        public_jwk: JSON.stringify(key.publicJwk),
      })
      .execute();
  }

  /**
   * Stores `key` unless an active key newer than `notBefore` exists (omit it to force). Runs under a
   * transaction-scoped advisory lock, so processes rotating at once create one key, not several.
   * True when the key was stored.
   */
  async insertIfNoKeySince(
    key: Omit<StoredSigningKey, "createdAt">,
    notBefore?: Date,
    createdAt = new Date(),
  ): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext('beep.users.signing_keys'))`.execute(trx);
      if (notBefore) {
        const recent = await trx
          .selectFrom("signing_keys")
          .select("kid")
          .where("retired_at", "is", null)
          .where("created_at", ">", notBefore)
          .executeTakeFirst();
        if (recent) return false;
      }
      await trx
        .insertInto("signing_keys")
        .values({
          kid: key.kid,
          private_jwk: JSON.stringify(key.privateJwk),
          public_jwk: JSON.stringify(key.publicJwk),
          created_at: createdAt,
        })
        .execute();
      return true;
    });
  }

  /** Marks keys retired: they leave the JWKS and never sign again. */
  async retire(kids: string[], at: Date): Promise<void> {
    if (kids.length === 0) return;
    await this.db
      .updateTable("signing_keys")
      .set({ retired_at: at })
      .where("kid", "in", kids)
      .where("retired_at", "is", null)
      .execute();
  }
}
