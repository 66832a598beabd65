import type { Logger } from "@beep/observability";
import { type Kysely, type Migration, type MigrationResult, Migrator } from "kysely";
import type { RootDatabase } from "./database.factory.ts";
import { assertSchemaName } from "./service-database.ts";

/** Migration names sort by their zero-padded number: `0001_users`, `0002_sessions_index`. */
const MIGRATION_NAME = /^\d{4}_[a-z0-9_]+$/;

/** What {@link migrateSchema} did. */
export interface MigrateSchemaResult {
  /** Migrations applied by this call, in order; empty when the schema was already up to date. */
  applied: string[];
}

/**
 * Brings `schema` to the latest of `migrations` (created if missing; its Kysely migration tables live
 * in it too). Migrations run in name order, each in one transaction, under Kysely's PostgreSQL advisory
 * lock, so processes starting together apply each migration once. Forward-only: `down` is rejected, and
 * a database that already holds a migration this build does not know is refused, not ignored — running
 * older code on a newer schema is how data gets corrupted.
 */
export async function migrateSchema(
  db: Kysely<RootDatabase>,
  schema: string,
  migrations: Record<string, Migration>,
  logger: Logger,
): Promise<MigrateSchemaResult> {
  assertSchemaName(schema);
  for (const [name, migration] of Object.entries(migrations)) {
    if (!MIGRATION_NAME.test(name)) {
      throw new Error(`migrate schema ${schema}: migration name "${name}" must look like 0001_create_users`);
    }
    if (migration.down !== undefined) {
      throw new Error(
        `migrate schema ${schema}: migration ${name} defines down(); Beep migrations are forward-only (write a new migration instead)`,
      );
    }
  }

  const migrator = new Migrator({
    // Migrations see the schema-scoped handle, so `db.schema.createTable("users")` lands in `schema`.
    db: db.withSchema(schema),
    migrationTableSchema: schema,
    provider: { getMigrations: async () => migrations },
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  const applied = results.filter((r) => r.status === "Success").map((r) => r.migrationName);
  if (error !== undefined) throw migrationError(schema, error, results, applied);
  if (applied.length > 0) logger.info({ schema, applied }, "schema migrated");
  else logger.debug({ schema }, "schema up to date");
  return { applied };
}

function migrationError(
  schema: string,
  error: unknown,
  results: MigrationResult[],
  applied: string[],
): Error {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /previously executed migration (\S+) is missing/.exec(message)?.[1];
  if (unknown !== undefined) {
    return new Error(
      `migrate schema ${schema}: the database has applied migration ${unknown}, which this build does not know; migrations are forward-only, so run a build that includes it (refusing to start)`,
      { cause: error },
    );
  }
  if (message.startsWith("corrupted migrations")) {
    return new Error(
      `migrate schema ${schema}: a new migration sorts before one already applied; name it after the last applied migration (${message})`,
      { cause: error },
    );
  }
  const failed = results.find((r) => r.status === "Error")?.migrationName;
  const done = applied.length > 0 ? ` (rolled back together with ${applied.join(", ")})` : "";
  return new Error(
    `migrate schema ${schema}: ${failed ? `migration ${failed} failed${done}` : "failed"}: ${message}`,
    { cause: error },
  );
}
