import { randomBytes } from "node:crypto";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";

/** Server used by `*.db.test.ts`; trust auth as user postgres on the test machines. */
export const TEST_PG_URL = process.env.BEEP_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** A throw-away database: created for one test file, dropped by `drop()`. */
export interface TestDatabase<DB> {
  /** Connection URL of the new database (for LISTEN clients and child processes). */
  url: string;
  /** Kysely over a pool on it. */
  db: Kysely<DB>;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** Opens a Kysely over `url` with a small pool. */
export function openTestKysely<DB>(url: string): Kysely<DB> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // Why: dropping the database terminates idle connections (57P01); without a listener the pool's
  // 'error' event would be an uncaught exception that fails an otherwise green run.
  pool.on("error", () => undefined);
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

/** Creates a uniquely named database so parallel runs and leftovers never collide. */
export async function createTestDatabase<DB>(label: string): Promise<TestDatabase<DB>> {
  const name = `beep_test_${label}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${admin.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  const db = openTestKysely<DB>(url.toString());
  return {
    url: url.toString(),
    db,
    async drop() {
      await db.destroy();
      const c = new pg.Client({ connectionString: TEST_PG_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists ${c.escapeIdentifier(name)} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
