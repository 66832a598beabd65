import { openTestSchema, type TestSchema } from "@beep/db";
import type { Logger } from "@beep/observability";
import { usersMigrations } from "../migrations/index.ts";
import { USERS_SCHEMA } from "../users.schema-name.ts";
import type { UsersTables } from "../users.tables.ts";

/** A throw-away database on the test server with the users schema migrated. */
export type UsersTestDatabase = TestSchema<UsersTables>;

/** Creates a fresh database for one test file and applies every users migration to it. */
export function openUsersTestDatabase(
  options: { logger?: Logger; poolSize?: number } = {},
): Promise<UsersTestDatabase> {
  return openTestSchema<UsersTables>({ schema: USERS_SCHEMA, migrations: usersMigrations, ...options });
}
