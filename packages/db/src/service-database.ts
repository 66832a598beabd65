import type { Kysely } from "kysely";
import type { RootDatabase } from "./database.factory.ts";

/** PostgreSQL identifiers we accept as service schema names: lower-case, unquoted-safe, not `pg_*`. */
const SCHEMA_NAME = /^(?!pg_)[a-z_][a-z0-9_]{0,62}$/;

/** Throws unless `schema` is a plain lower-case identifier (so it never needs quoting by hand). */
export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(
      `invalid schema name "${schema}": use lower-case letters, digits and _ (max 63, not starting with pg_)`,
    );
  }
}

/**
 * The service's typed view of the database: every table reference Kysely builds (select, insert,
 * update, delete, joins, DDL) is prefixed with `schema`. Raw `sql` fragments are not rewritten:
 * qualify table names in them yourself (e.g. `sql.table("users")` inside a builder, or `"users"."x"`).
 */
export function serviceDatabase<T>(db: Kysely<RootDatabase>, schema: string): Kysely<T> {
  assertSchemaName(schema);
  // The root type declares no tables; the service's T is the only truthful description of its schema.
  return db.withSchema(schema) as unknown as Kysely<T>;
}
