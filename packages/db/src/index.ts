export {
  type DatabaseHandle,
  EMBEDDED_DATABASE_NAME,
  type OpenDatabaseOptions,
  openDatabase,
  type PoolStats,
  type RootDatabase,
} from "./database.factory.ts";
export { redactDatabaseUrl } from "./database-url.ts";
export { type MigrateSchemaResult, migrateSchema } from "./schema.migrator.ts";
export { assertSchemaName, serviceDatabase } from "./service-database.ts";
export { createTestDatabase, type TestDatabase, testServerUrl } from "./test-database.fixture.ts";
export { openTestSchema, type TestSchema } from "./test-schema.fixture.ts";
