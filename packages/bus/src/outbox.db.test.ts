import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createLogger } from "@beep/observability";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { type Kysely, Migrator, sql } from "kysely";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sleep, testEvent, waitUntil } from "./bus.conformance.ts";
import type { Bus, BusEvent } from "./bus.ts";
import { processOnce } from "./inbox-process-once.ts";
import { MemoryBus } from "./memory.bus.ts";
import { natsStreamName } from "./nats.bus.ts";
import { openBus } from "./open-bus.ts";
import { inboxMigration, outboxMigration } from "./outbox.migrations.ts";
import { OutboxRelay } from "./outbox.relay.ts";
import { writeOutbox } from "./outbox-write.ts";
import { createTestDatabase, openTestKysely, type TestDatabase } from "./testing/test-database.ts";

const NATS_URL = process.env.BEEP_TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const SCHEMA = "svc";
const logger = createLogger({ service: "outbox-test", level: "silent" });
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const CHILD = fileURLToPath(new URL("./testing/outbox-crash.child.ts", import.meta.url));

let tdb: TestDatabase<unknown>;
let db: Kysely<unknown>;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  tdb = await createTestDatabase("bus");
  db = tdb.db;
  const migrator = new Migrator({
    db,
    provider: {
      async getMigrations() {
        return {
          "0001_outbox": outboxMigration(SCHEMA),
          "0002_inbox": inboxMigration(SCHEMA),
          "0003_items": {
            async up(d) {
              await sql`create table svc.items (id serial primary key, name text not null)`.execute(d);
            },
          },
        };
      },
    },
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await sql`truncate svc.outbox, svc.inbox, svc.items`.execute(db);
});

afterAll(async () => {
  await tdb?.drop();
});

function relay(bus: Bus, opts: { listen?: boolean; pollIntervalMs?: number; db?: Kysely<unknown> } = {}) {
  const r = new OutboxRelay({
    db: opts.db ?? db,
    schema: SCHEMA,
    bus,
    logger,
    pollIntervalMs: opts.pollIntervalMs ?? 200,
    ...(opts.listen === false ? {} : { listen: tdb.url }),
  });
  cleanups.push(() => r.stop());
  return r;
}

function memoryBus(): MemoryBus {
  const bus = new MemoryBus(logger);
  cleanups.push(() => bus.close());
  return bus;
}

async function outboxCount(): Promise<number> {
  const r = await sql<{ n: string }>`select count(*) as n from svc.outbox`.execute(db);
  return Number(r.rows[0]!.n);
}

describe("outbox", () => {
  it("publishes only after commit, woken by NOTIFY", async () => {
    const bus = memoryBus();
    const got: BusEvent[] = [];
    await bus.subscribe([">"], (e) => void got.push(e));
    // A poll this long means only NOTIFY can make the test pass in time.
    const r = relay(bus, { pollIntervalMs: 60_000 });
    await r.start();
    let written: BusEvent[] = [];
    await db.transaction().execute(async (trx) => {
      await sql`insert into svc.items (name) values ('a')`.execute(trx);
      written = await writeOutbox(trx, SCHEMA, [
        { type: "item.created", payload: { name: "a" }, traceparent: "00-aa-bb-01" },
      ]);
      await r.flush();
      await sleep(200);
      expect(got).toEqual([]);
    });
    await waitUntil(() => got.length === 1, 5_000, "publish after commit");
    expect(got[0]).toEqual(written[0]);
    expect(written[0]).toMatchObject({
      type: "item.created",
      payload: { name: "a" },
      traceparent: "00-aa-bb-01",
    });
    await r.flush();
    expect(await outboxCount()).toBe(0);
  });

  it("publishes nothing for a rolled-back transaction", async () => {
    const bus = memoryBus();
    const got: BusEvent[] = [];
    await bus.subscribe([">"], (e) => void got.push(e));
    const r = relay(bus);
    await r.start();
    await expect(
      db.transaction().execute(async (trx) => {
        await writeOutbox(trx, SCHEMA, [{ type: "item.created", payload: {} }]);
        throw new Error("business rule failed (expected by the test)");
      }),
    ).rejects.toThrow(/expected by the test/);
    await r.flush();
    await sleep(300);
    expect(got).toEqual([]);
    expect(await outboxCount()).toBe(0);
  });

  it("refuses to write outside a transaction", async () => {
    // @ts-expect-error: a Kysely that is not a Transaction is rejected at compile time too.
    await expect(writeOutbox(db, SCHEMA, [{ type: "a.b", payload: {} }])).rejects.toThrow(
      /inside a transaction/,
    );
  });

  it("preserves order within and across transactions", async () => {
    const bus = memoryBus();
    const got: number[] = [];
    await bus.consume("order", [">"], async (e) => void got.push((e.payload as { i: number }).i));
    for (let t = 0; t < 5; t++) {
      await db.transaction().execute((trx) =>
        writeOutbox(
          trx,
          SCHEMA,
          Array.from({ length: 4 }, (_, k) => ({ type: "seq.tick", payload: { i: t * 4 + k } })),
        ),
      );
    }
    const r = relay(bus);
    await r.start();
    await waitUntil(() => got.length === 20, 5_000, "all events");
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("two relays on one schema publish every event exactly once, in each writer's order", async () => {
    const bus = memoryBus();
    const got: Array<{ w: number; n: number }> = [];
    await bus.consume("load", [">"], async (e) => void got.push(e.payload as { w: number; n: number }));
    // Separate pools: the relays compete like two processes would.
    const db2 = openTestKysely<unknown>(tdb.url);
    cleanups.push(() => db2.destroy());
    const relays = [relay(bus, { pollIntervalMs: 50 }), relay(bus, { pollIntervalMs: 50, db: db2 })];
    await Promise.all(relays.map((r) => r.start()));
    const writers = 8;
    const txPerWriter = 25;
    const perTx = 3;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let t = 0; t < txPerWriter; t++) {
          await db.transaction().execute((trx) =>
            writeOutbox(
              trx,
              SCHEMA,
              Array.from({ length: perTx }, (_, k) => ({
                type: "load.tick",
                payload: { w, n: t * perTx + k },
              })),
            ),
          );
        }
      }),
    );
    const total = writers * txPerWriter * perTx;
    await waitUntil(() => got.length >= total, 20_000, "all events");
    await sleep(300);
    expect(got).toHaveLength(total);
    for (let w = 0; w < writers; w++) {
      const seq = got.filter((e) => e.w === w).map((e) => e.n);
      expect(seq).toEqual(Array.from({ length: txPerWriter * perTx }, (_, i) => i));
    }
    expect(await outboxCount()).toBe(0);
  });

  it("retries after a publish failure without losing or reordering", async () => {
    const inner = memoryBus();
    const got: number[] = [];
    await inner.consume("retry", [">"], async (e) => void got.push((e.payload as { i: number }).i));
    let failures = 3;
    const flaky: Bus = {
      distributed: false,
      consume: (g, p, h) => inner.consume(g, p, h),
      subscribe: (p, h) => inner.subscribe(p, h),
      follow: (p, h) => inner.follow(p, h),
      broadcast: (e) => inner.broadcast(e),
      subscribeEphemeral: (p, h) => inner.subscribeEphemeral(p, h),
      close: () => inner.close(),
      ping: () => inner.ping(),
      async publish(e) {
        if ((e.payload as { i: number }).i === 2 && failures-- > 0) throw new Error("bus down (expected)");
        await inner.publish(e);
      },
    };
    await db.transaction().execute((trx) =>
      writeOutbox(
        trx,
        SCHEMA,
        Array.from({ length: 5 }, (_, i) => ({ type: "r.x", payload: { i } })),
      ),
    );
    const r = relay(flaky, { pollIntervalMs: 50 });
    await r.start();
    await waitUntil(() => got.length === 5, 5_000, "all after retries");
    expect(got).toEqual([0, 1, 2, 3, 4]);
  });

  it("reports lag as the age of the oldest unpublished row", async () => {
    const bus = memoryBus();
    const r = relay(bus, { listen: false });
    expect(await r.lagSeconds()).toBe(0);
    await db.transaction().execute((trx) => writeOutbox(trx, SCHEMA, [{ type: "lag.x", payload: {} }]));
    await sleep(1100);
    expect(await r.lagSeconds()).toBeGreaterThanOrEqual(1);
    await r.flush();
    expect(await r.lagSeconds()).toBe(0);
  });
});

describe("inbox", () => {
  it("runs fn once per consumer and event id, atomically", async () => {
    const e = testEvent("item.created");
    const apply = (consumer: string) =>
      processOnce(db, SCHEMA, consumer, e, async (trx) => {
        await sql`insert into svc.items (name) values (${consumer})`.execute(trx);
      });
    expect(await apply("c1")).toBe(true);
    expect(await apply("c1")).toBe(false);
    expect(await apply("c2")).toBe(true);
    const failing = processOnce(db, SCHEMA, "c3", e, async (trx) => {
      await sql`insert into svc.items (name) values ('c3')`.execute(trx);
      throw new Error("handler failed (expected)");
    });
    await expect(failing).rejects.toThrow(/expected/);
    expect(await apply("c3")).toBe(true);
    const names = await sql<{ name: string }>`select name from svc.items order by id`.execute(db);
    expect(names.rows.map((r) => r.name)).toEqual(["c1", "c2", "c3"]);
  });

  it("serialises concurrent duplicate deliveries", async () => {
    const e = testEvent("item.created");
    let runs = 0;
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        processOnce(db, SCHEMA, "concurrent", e, async () => {
          runs++;
          await sleep(50);
        }),
      ),
    );
    expect(runs).toBe(1);
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});

describe("crash between commit and publish", () => {
  const run = `crash${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;

  afterAll(async () => {
    const nc = await connect({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(natsStreamName(run)).catch(() => false);
    await nc.close();
  });

  function spawnChild(mode: "commit" | "publish"): { child: ChildProcess; lines: string[] } {
    // `node --import tsx`, not the tsx CLI: the CLI runs the script in a grandchild
    // that would survive our SIGKILL and keep its transaction open.
    const child = spawn(process.execPath, ["--import", "tsx", CHILD], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        BEEP_CRASH_MODE: mode,
        BEEP_CRASH_SCHEMA: SCHEMA,
        BEEP_CRASH_DB_URL: tdb.url,
        BEEP_CRASH_NATS_URL: NATS_URL,
        BEEP_CRASH_PREFIX: run,
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const lines: string[] = [];
    createInterface({ input: child.stdout! }).on("line", (l) => lines.push(l));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    return { child, lines };
  }

  async function kill(child: ChildProcess): Promise<void> {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  it("a relay started later publishes what a killed process committed", async () => {
    const { child, lines } = spawnChild("commit");
    await waitUntil(() => lines.some((l) => l.startsWith("committed ")), 20_000, "child commit");
    await kill(child);
    const id = lines[0]!.split(" ")[1]!;
    expect(await outboxCount()).toBe(1);

    const bus = memoryBus();
    const delivered: string[] = [];
    let applied = 0;
    await bus.consume("crash-a", [">"], async (e) => {
      delivered.push(e.id);
      await processOnce(db, SCHEMA, "crash-a", e, async () => void applied++);
    });
    await relay(bus).start();
    await waitUntil(() => delivered.length === 1, 5_000, "delivery");
    expect(delivered).toEqual([id]);
    expect(applied).toBe(1);
    expect(await outboxCount()).toBe(0);
  });

  it("an event published but not marked before SIGKILL is republished and applied once", async () => {
    // The stream's duplicate window is shorter than the restart, so the copy really reaches the consumer.
    const bus = await openBus(NATS_URL, {
      logger,
      name: "crash-parent",
      prefix: run,
      duplicateWindowMs: 100,
    });
    cleanups.push(() => bus.close());
    const delivered: string[] = [];
    let applied = 0;
    await bus.consume("crash-b", ["item.*"], async (e) => {
      delivered.push(e.id);
      await processOnce(db, SCHEMA, "crash-b", e, async (trx) => {
        applied++;
        await sql`insert into svc.items (name) values ('applied')`.execute(trx);
      });
    });

    const { child, lines } = spawnChild("publish");
    await waitUntil(() => lines.some((l) => l.startsWith("published ")), 20_000, "child publish");
    await kill(child);
    const id = lines[0]!.split(" ")[1]!;
    // Killed between publish and delete: the row is still there.
    expect(await outboxCount()).toBe(1);
    await waitUntil(() => delivered.length === 1, 5_000, "first delivery");

    await sleep(200);
    await relay(bus).start();
    await waitUntil(() => delivered.length === 2, 5_000, "republished delivery");
    await sleep(300);
    expect(delivered).toEqual([id, id]);
    expect(applied).toBe(1);
    expect(await outboxCount()).toBe(0);
  });
});
