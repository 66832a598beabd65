import type { Kysely } from "kysely";
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
}
