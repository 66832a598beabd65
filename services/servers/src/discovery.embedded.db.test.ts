import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DatabaseHandle, migrateSchema, openDatabase } from "@beep/db";
import { createLogger } from "@beep/observability";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serversMigrations } from "./migrations/index.ts";
import { SERVERS_SCHEMA } from "./servers.schema-name.ts";

const logger = createLogger({ service: "servers-test", level: "silent" });

let dir: string;
let handle: DatabaseHandle | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "beep-servers-embedded-"));
  // Running as root, the embedded server runs as user postgres, which must traverse the temp dir.
  chmodSync(dir, 0o755);
  handle = await openDatabase({
    embedded: { dataDir: join(dir, "pg"), port: await freePort() },
    poolSize: 2,
    logger,
  });
  await migrateSchema(handle.db, SERVERS_SCHEMA, serversMigrations, logger);
}, 120_000);

afterAll(async () => {
  await handle?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// `npm start` runs the embedded PostgreSQL: discovery must fold accents there with unaccent, like on a server.
describe("discovery on the embedded PostgreSQL", () => {
  it("installs unaccent and folds with it; the generated column and its index work", async () => {
    const db = handle?.db;
    if (!db) throw new Error("no database");
    expect(handle?.mode).toBe("embedded");
    const ext = await sql`select 1 from pg_extension where extname = 'unaccent'`.execute(db);
    expect(ext.rows).toHaveLength(1);
    const body = await sql<{ src: string }>`
      select prosrc as src from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'servers' and p.proname = 'search_fold'`.execute(db);
    expect(body.rows[0]?.src).toContain("unaccent");
    const folded = await sql<{ v: string }>`select servers.search_fold('Café Œuvre Ñandú') as v`.execute(db);
    expect(folded.rows[0]?.v).toBe("cafe oeuvre nandu");
    await sql`insert into servers.servers (id, name, description, public, owner_id)
              values (1, 'Café Programmation', 'Zürich', true, 2)`.execute(db);
    const found = await sql<{ id: string }>`
      select id from servers.servers
       where public and search_vector @@ to_tsquery('simple', servers.search_fold('cafe & prog:*'))`.execute(
      db,
    );
    expect(found.rows.map((row) => String(row.id))).toEqual(["1"]);
  });
});
