import { randomBytes } from "node:crypto";
import pg from "pg";
import { redactDatabaseUrl, withDatabaseName } from "./database-url.ts";

/** The PostgreSQL server tests create their databases on; CI points `BEEP_TEST_DATABASE_URL` elsewhere. */
export function testServerUrl(): string {
  return process.env.BEEP_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
}

/** A throw-away database on the test server. */
export interface TestDatabase {
  /** Connection URL of the new database (same credentials as the test server URL). */
  url: string;
  /** Drops the database, terminating any connection still open on it. Safe to call twice. */
  drop(): Promise<void>;
}

/**
 * Creates a uniquely named database (`beep_test_<random>`) on the test server, so test files run in
 * parallel without sharing state. Call `drop()` in afterAll.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = testServerUrl();
  const name = `beep_test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  await withAdminClient(serverUrl, `create test database ${name}`, (client) =>
    client.query(`create database ${client.escapeIdentifier(name)}`),
  );
  let dropped = false;
  return {
    url: withDatabaseName(serverUrl, name),
    async drop() {
      if (dropped) return;
      dropped = true;
      // WITH (FORCE) terminates leftover connections (a pool a test forgot to close) instead of failing.
      await withAdminClient(serverUrl, `drop test database ${name}`, (client) =>
        client.query(`drop database if exists ${client.escapeIdentifier(name)} with (force)`),
      );
    },
  };
}

async function withAdminClient(
  serverUrl: string,
  action: string,
  run: (client: pg.Client) => Promise<unknown>,
): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  try {
    await client.connect();
    await run(client);
  } catch (cause) {
    throw new Error(
      `${action} on ${redactDatabaseUrl(serverUrl)}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  } finally {
    await client.end().catch(() => undefined); // already failed or closed; the error above matters more
  }
}
