import { sql } from "kysely";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { openDatabase } from "./database.factory.ts";
import { redactDatabaseUrl } from "./database-url.ts";
import { freePort, testLogger } from "./db-test.fixture.ts";
import { createTestDatabase, testServerUrl } from "./test-database.fixture.ts";

const logger = testLogger();
const unusedEmbedded = { dataDir: "/nonexistent/unused", port: 1 };

describe("redactDatabaseUrl", () => {
  it("hides passwords in the userinfo and in ?password=, keeps everything else", () => {
    expect(redactDatabaseUrl("postgres://beep:s3cr%40t@db.internal:6432/beep?sslmode=require")).toBe(
      "postgres://beep:***@db.internal:6432/beep?sslmode=require",
    );
    expect(redactDatabaseUrl("postgres://beep@db/beep?password=s3cret")).toBe(
      "postgres://beep@db/beep?password=***",
    );
    expect(redactDatabaseUrl("not a url with s3cret")).not.toContain("s3cret");
  });
});

describe("openDatabase in server mode", () => {
  it("opens a pool on the given URL and reports the redacted URL", async () => {
    const database = await createTestDatabase();
    try {
      const handle = await openDatabase({ url: database.url, embedded: unusedEmbedded, poolSize: 3, logger });
      expect(handle.mode).toBe("server");
      const name = await sql<{ d: string }>`select current_database() as d`.execute(handle.db);
      expect(database.url.endsWith(`/${name.rows[0]?.d}`)).toBe(true);
      await handle.close();
      await handle.close();
    } finally {
      await database.drop();
    }
  });

  it("fails at open, with context and without the password, when the server is unreachable", async () => {
    const port = await freePort();
    const url = `postgres://beep:hunter2@127.0.0.1:${port}/beep`;
    const error = await openDatabase({ url, embedded: unusedEmbedded, poolSize: 1, logger }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain(`open database postgres://beep:***@127.0.0.1:${port}/beep`);
    expect(error?.message).toContain("ECONNREFUSED");
    expect(error?.message).not.toContain("hunter2");
  });

  it("rejects an unknown scheme and lists the valid ones", async () => {
    await expect(
      openDatabase({ url: "mysql://root:pw@localhost/beep", embedded: unusedEmbedded, poolSize: 1, logger }),
    ).rejects.toThrow(/unsupported scheme "mysql:", expected one of postgres:\/\/, postgresql:\/\//);
  });
});

describe("createTestDatabase", () => {
  it("creates a fresh database and drop() removes it even with connections still open", async () => {
    const first = await createTestDatabase();
    const second = await createTestDatabase();
    expect(first.url).not.toBe(second.url);
    const name = new URL(first.url).pathname.slice(1);
    const leftOpen = new pg.Client({ connectionString: first.url });
    await leftOpen.connect();
    leftOpen.on("error", () => undefined); // drop() terminates it; that is the point of the test
    await first.drop();
    await second.drop();

    const admin = new pg.Client({ connectionString: testServerUrl() });
    await admin.connect();
    try {
      const found = await admin.query("select 1 from pg_database where datname = $1", [name]);
      expect(found.rowCount).toBe(0);
    } finally {
      await admin.end();
      await leftOpen.end().catch(() => undefined); // already terminated by drop()
    }
  });
});
