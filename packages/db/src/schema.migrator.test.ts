import { promises as fs } from "node:fs";
import path from "node:path";
import { type Kysely, type Migration, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseHandle, openDatabase, type RootDatabase } from "./database.factory.ts";
import { embeddedAdminUrl, freePort, tempDir, testLogger } from "./db-test.fixture.ts";
import { migrateSchema } from "./schema.migrator.ts";
import { serviceDatabase } from "./service-database.ts";
import { createTestDatabase } from "./test-database.fixture.ts";

interface Target {
  /** Opens the first handle. */
  open(): Promise<DatabaseHandle>;
  /** A second, independent handle (own pool) on the same database. */
  openAnother(): Promise<DatabaseHandle>;
  cleanup(): Promise<void>;
}

const logger = testLogger();

async function serverTarget(): Promise<Target> {
  const database = await createTestDatabase();
  const open = () => openDatabase({ url: database.url, embedded: unusedEmbedded, poolSize: 4, logger });
  return { open, openAnother: open, cleanup: () => database.drop() };
}

async function embeddedTarget(): Promise<Target> {
  const parent = await tempDir("migrate");
  const dataDir = path.join(parent, "postgres");
  const port = await freePort();
  return {
    open: () => openDatabase({ embedded: { dataDir, port }, poolSize: 4, logger }),
    // The data dir belongs to the first handle's process; a second handle connects to its server.
    openAnother: async () =>
      openDatabase({
        url: await embeddedAdminUrl(dataDir, port),
        embedded: unusedEmbedded,
        poolSize: 4,
        logger,
      }),
    cleanup: () => fs.rm(parent, { recursive: true, force: true }),
  };
}

const unusedEmbedded = { dataDir: "/nonexistent/unused", port: 1 };

interface ItemTable {
  id: number;
  label: string;
}
interface ItemsDb {
  items: ItemTable;
}

const itemMigrations: Record<string, Migration> = {
  "0001_items": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("items")
        .addColumn("id", "integer", (c) => c.primaryKey())
        .addColumn("label", "text", (c) => c.notNull())
        .execute();
    },
  },
  "0002_items_label_index": {
    async up(db: Kysely<unknown>) {
      await db.schema.createIndex("items_label_idx").on("items").column("label").execute();
    },
  },
};

async function tablesIn(db: Kysely<RootDatabase>, schema: string): Promise<string[]> {
  const result = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = ${schema} order by table_name`.execute(
    db,
  );
  return result.rows.map((r) => r.table_name);
}

describe.each([
  { name: "server (127.0.0.1:5432)", make: serverTarget },
  { name: "embedded", make: embeddedTarget },
])("migrateSchema against $name", ({ make }) => {
  let target: Target;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    target = await make();
    handle = await target.open();
  });
  afterAll(async () => {
    await handle?.close();
    await target?.cleanup();
  });

  it("creates the schema, applies migrations in order and records them in that schema", async () => {
    const result = await migrateSchema(handle.db, "svc_apply", itemMigrations, logger);
    expect(result.applied).toEqual(["0001_items", "0002_items_label_index"]);
    expect(await tablesIn(handle.db, "svc_apply")).toEqual([
      "items",
      "kysely_migration",
      "kysely_migration_lock",
    ]);
    expect(await tablesIn(handle.db, "public")).not.toContain("items");
    const indexes = await sql<{ indexname: string }>`
      select indexname from pg_indexes where schemaname = 'svc_apply' and tablename = 'items'`.execute(
      handle.db,
    );
    expect(indexes.rows.map((r) => r.indexname)).toContain("items_label_idx");
  });

  it("re-applying is a no-op that keeps the data", async () => {
    await migrateSchema(handle.db, "svc_again", itemMigrations, logger);
    const items = serviceDatabase<ItemsDb>(handle.db, "svc_again");
    await items.insertInto("items").values({ id: 1, label: "kept" }).execute();
    const again = await migrateSchema(handle.db, "svc_again", itemMigrations, logger);
    expect(again.applied).toEqual([]);
    expect(await items.selectFrom("items").select("label").execute()).toEqual([{ label: "kept" }]);
  });

  it("applies only the new migration when the code gains one", async () => {
    await migrateSchema(handle.db, "svc_grow", { "0001_items": itemMigrations["0001_items"]! }, logger);
    const grown = await migrateSchema(handle.db, "svc_grow", itemMigrations, logger);
    expect(grown.applied).toEqual(["0002_items_label_index"]);
  });

  it("refuses a database that holds a migration this build does not know", async () => {
    await migrateSchema(handle.db, "svc_newer", itemMigrations, logger);
    const older = { "0001_items": itemMigrations["0001_items"]! };
    await expect(migrateSchema(handle.db, "svc_newer", older, logger)).rejects.toThrow(
      /schema svc_newer: the database has applied migration 0002_items_label_index, which this build does not know/,
    );
  });

  it("refuses a new migration that sorts before one already applied", async () => {
    await migrateSchema(handle.db, "svc_order", { "0002_items": itemMigrations["0001_items"]! }, logger);
    const early: Migration = { up: async (db) => void (await sql`select 1`.execute(db)) };
    await expect(
      migrateSchema(
        handle.db,
        "svc_order",
        { "0001_early": early, "0002_items": itemMigrations["0001_items"]! },
        logger,
      ),
    ).rejects.toThrow(/svc_order: a new migration sorts before one already applied/);
  });

  it("rolls back every pending migration when one fails, and names it", async () => {
    const broken: Migration = { up: async (db) => void (await sql`select * from no_such_table`.execute(db)) };
    await expect(
      migrateSchema(handle.db, "svc_broken", { ...itemMigrations, "0003_broken": broken }, logger),
    ).rejects.toThrow(/migration 0003_broken failed.*no_such_table/);
    expect(await tablesIn(handle.db, "svc_broken")).not.toContain("items");
  });

  it("rejects down migrations and unsortable names before touching the database", async () => {
    const withDown: Migration = { up: async () => undefined, down: async () => undefined };
    await expect(migrateSchema(handle.db, "svc_down", { "0001_x": withDown }, logger)).rejects.toThrow(
      /forward-only/,
    );
    await expect(
      migrateSchema(handle.db, "svc_down", { "1_x": { up: async () => undefined } }, logger),
    ).rejects.toThrow(/must look like 0001_/);
    await expect(migrateSchema(handle.db, "Bad-Name", itemMigrations, logger)).rejects.toThrow(
      /invalid schema/,
    );
    const schemas = await sql`select 1 from pg_namespace where nspname = 'svc_down'`.execute(handle.db);
    expect(schemas.rows).toHaveLength(0);
  });

  it("two handles migrating at once apply each migration exactly once", async () => {
    const other = await target.openAnother();
    try {
      // Not idempotent on purpose (plain CREATE TABLE, INSERT) and slow enough for the two to overlap.
      const slow: Record<string, Migration> = {
        "0001_counter": {
          async up(db) {
            await sql`select pg_sleep(0.3)`.execute(db);
            await db.schema.createTable("runs").addColumn("n", "integer").execute();
            await db.insertInto("runs").values({ n: 1 }).execute();
          },
        },
      };
      const [a, b] = await Promise.all([
        migrateSchema(handle.db, "svc_race", slow, logger),
        migrateSchema(other.db, "svc_race", slow, logger),
      ]);
      expect([...a.applied, ...b.applied]).toEqual(["0001_counter"]);
      const runs = await serviceDatabase<{ runs: { n: number } }>(handle.db, "svc_race")
        .selectFrom("runs")
        .selectAll()
        .execute();
      expect(runs).toEqual([{ n: 1 }]);
    } finally {
      await other.close();
    }
  });

  it("serviceDatabase keeps two schemas' same-named tables apart; raw sql is not rewritten", async () => {
    await migrateSchema(handle.db, "svc_left", itemMigrations, logger);
    await migrateSchema(handle.db, "svc_right", itemMigrations, logger);
    const left = serviceDatabase<ItemsDb>(handle.db, "svc_left");
    const right = serviceDatabase<ItemsDb>(handle.db, "svc_right");

    await left.insertInto("items").values({ id: 1, label: "left" }).execute();
    await right.insertInto("items").values({ id: 1, label: "right" }).execute();
    await left.updateTable("items").set({ label: "left-updated" }).where("id", "=", 1).execute();
    await right.deleteFrom("items").where("id", "=", 2).execute();

    expect(await left.selectFrom("items").select("label").execute()).toEqual([{ label: "left-updated" }]);
    expect(await right.selectFrom("items").select("label").execute()).toEqual([{ label: "right" }]);
    // Raw SQL resolves through search_path (public), not the service's schema: qualifying is the caller's job.
    await expect(sql`select label from items`.execute(left)).rejects.toThrow(
      /relation "items" does not exist/,
    );
  });

  it("reports live pool counters", async () => {
    const busy = handle.db.transaction().execute(async (trx) => {
      expect(handle.poolStats.total).toBeGreaterThanOrEqual(1);
      expect(handle.poolStats.idle).toBeLessThan(handle.poolStats.total);
      await sql`select 1`.execute(trx);
    });
    await busy;
    expect(handle.poolStats.idle).toBe(handle.poolStats.total);
    expect(handle.poolStats.waiting).toBe(0);
  });
});
