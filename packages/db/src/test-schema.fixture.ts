import { createLogger, type Logger } from "@beep/observability";
import type { Kysely, Migration } from "kysely";
import { type DatabaseHandle, openDatabase } from "./database.factory.ts";
import { migrateSchema } from "./schema.migrator.ts";
import { serviceDatabase } from "./service-database.ts";
import { createTestDatabase } from "./test-database.fixture.ts";

/** A throw-away database with one service's schema migrated, for that service's tests. */
export interface TestSchema<T> {
  /** Scoped to the service's schema. */
  db: Kysely<T>;
  /** The root handle (pool, close). */
  handle: DatabaseHandle;
  /** Connection URL, for tests that open a second pool on the same database. */
  url: string;
  /** Closes the pool and drops the database. */
  close(): Promise<void>;
}

/** Creates a fresh database for one test file and applies the service's migrations to it. */
export async function openTestSchema<T>(options: {
  schema: string;
  migrations: Record<string, Migration>;
  logger?: Logger;
  poolSize?: number;
}): Promise<TestSchema<T>> {
  const logger = options.logger ?? createLogger({ service: `${options.schema}-test`, level: "silent" });
  const database = await createTestDatabase();
  const handle = await openDatabase({
    url: database.url,
    // Unused with a url: tests never start the embedded server through this fixture.
    embedded: { dataDir: "", port: 0 },
    poolSize: options.poolSize ?? 4,
    logger,
  });
  await migrateSchema(handle.db, options.schema, options.migrations, logger);
  return {
    db: serviceDatabase<T>(handle.db, options.schema),
    handle,
    url: database.url,
    async close() {
      await handle.close();
      await database.drop();
    },
  };
}
