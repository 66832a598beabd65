import {
  createTestDatabase,
  type DatabaseHandle,
  migrateSchema,
  openDatabase,
  serviceDatabase,
} from "@beep/db";
import { createLogger, type Logger } from "@beep/observability";
import type { Kysely } from "kysely";
import { usersMigrations } from "../migrations/index.ts";
import { USERS_SCHEMA } from "../users.schema-name.ts";
import type { UsersTables } from "../users.tables.ts";

/** A throw-away database on the test server with the users schema migrated. */
export interface UsersTestDatabase {
  /** Scoped to schema `users`. */
  db: Kysely<UsersTables>;
  /** The root handle (pool, close). */
  handle: DatabaseHandle;
  /** Closes the pool and drops the database. */
  close(): Promise<void>;
}

/** Creates a fresh database for one test file and applies every users migration to it. */
export async function openUsersTestDatabase(
  options: { logger?: Logger; poolSize?: number } = {},
): Promise<UsersTestDatabase> {
  const logger = options.logger ?? createLogger({ service: "users-test", level: "silent" });
  const database = await createTestDatabase();
  const handle = await openDatabase({
    url: database.url,
    // Unused with a url; the embedded server is never started by tests of this package.
    embedded: { dataDir: "", port: 0 },
    poolSize: options.poolSize ?? 4,
    logger,
  });
  await migrateSchema(handle.db, USERS_SCHEMA, usersMigrations, logger);
  return {
    db: serviceDatabase<UsersTables>(handle.db, USERS_SCHEMA),
    handle,
    async close() {
      await handle.close();
      await database.drop();
    },
  };
}
