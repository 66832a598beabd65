import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createLogger } from "@beep/observability";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { type Kysely, Migrator, sql } from "kysely";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
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

function relay(
  bus: Bus,
  opts: { listen?: boolean; pollIntervalMs?: number; db?: Kysely<unknown>; name?: string } = {},
) {
  const r = new OutboxRelay({
    db: opts.db ?? db,
    schema: SCHEMA,
    bus,
    logger,
    pollIntervalMs: opts.pollIntervalMs ?? 200,
    // application_name lets a test find the relay's backend (pg_stat_activity) and count its statements.
    ...(opts.listen === false
      ? {}
      : { listen: opts.name ? { connectionString: tdb.url, application_name: opts.name } : tdb.url }),
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

/** Counts what each relay publishes, on one shared bus. */
function countingBus(inner: Bus, counts: Map<string, number>, name: string): Bus {
  return {
    distributed: inner.distributed,
    consume: (g, p, h) => inner.consume(g, p, h),
    subscribe: (p, h) => inner.subscribe(p, h),
    follow: (p, h) => inner.follow(p, h),
    broadcast: (e) => inner.broadcast(e),
    subscribeEphemeral: (p, h) => inner.subscribeEphemeral(p, h),
    close: () => inner.close(),
    ping: () => inner.ping(),
    async publish(e) {
      await inner.publish(e);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    },
  };
}

async function writeTicks(from: number, count: number): Promise<void> {
  await db.transaction().execute((trx) =>
    writeOutbox(
      trx,
      SCHEMA,
      Array.from({ length: count }, (_, k) => ({ type: "seq.tick", payload: { i: from + k } })),
    ),
  );
}

/** application_name of the backend holding the relay's advisory lock, if any. */
async function leaderName(): Promise<string | undefined> {
  const r = await sql<{ application_name: string }>`
    select a.application_name from pg_locks l join pg_stat_activity a using (pid)
    where l.locktype = 'advisory' and l.granted
      and l.database = (select oid from pg_database where datname = current_database())`.execute(db);
  expect(r.rows.length).toBeLessThanOrEqual(1);
  return r.rows[0]?.application_name;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
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

  it("with LISTEN, one relay leads: everything is published once, in seq order, by the leader only", async () => {
    const bus = memoryBus();
    const got: number[] = [];
    await bus.consume("leader", [">"], async (e) => void got.push((e.payload as { i: number }).i));
    const counts = new Map<string, number>();
    const db2 = openTestKysely<unknown>(tdb.url);
    cleanups.push(() => db2.destroy());
    // A short poll gives the follower many chances to try for the lock.
    const relays = [
      relay(countingBus(bus, counts, "a"), { pollIntervalMs: 20, name: "relay-a" }),
      relay(countingBus(bus, counts, "b"), { pollIntervalMs: 20, name: "relay-b", db: db2 }),
    ];
    await Promise.all(relays.map((r) => r.start()));
    const total = 60;
    for (let t = 0; t < total; t += 3) {
      await writeTicks(t, 3);
      if (t % 12 === 0) await sleep(25);
    }
    await waitUntil(() => got.length >= total, 10_000, "all events");
    await sleep(200);
    expect(got).toEqual(Array.from({ length: total }, (_, i) => i));
    const published = [counts.get("a") ?? 0, counts.get("b") ?? 0].sort((x, y) => x - y);
    expect(published).toEqual([0, total]);
    expect(await leaderName()).toBe((counts.get("a") ?? 0) > 0 ? "relay-a" : "relay-b");
    expect(await outboxCount()).toBe(0);
  });

  it("when the leader's connection dies, the other relay takes over within its poll and loses nothing", async () => {
    const bus = memoryBus();
    const got: number[] = [];
    await bus.consume("failover", [">"], async (e) => void got.push((e.payload as { i: number }).i));
    const counts = new Map<string, number>();
    const db2 = openTestKysely<unknown>(tdb.url);
    cleanups.push(() => db2.destroy());
    // The leader reconnects only after its (longer) poll interval, so the follower deterministically wins.
    const leader = relay(countingBus(bus, counts, "a"), { pollIntervalMs: 2_000, name: "relay-a" });
    await leader.start();
    await leader.flush();
    const follower = relay(countingBus(bus, counts, "b"), { pollIntervalMs: 100, name: "relay-b", db: db2 });
    await follower.start();
    await writeTicks(0, 5);
    await waitUntil(() => got.length === 5, 5_000, "events before the failover");
    expect(await leaderName()).toBe("relay-a");
    expect(counts.get("b") ?? 0).toBe(0);

    await sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'relay-a'`.execute(
      db,
    );
    const killedAt = Date.now();
    await writeTicks(5, 5);
    await waitUntil(() => got.length === 10, 5_000, "events written after the leader died");
    // Well within the follower's 100 ms poll plus scheduling slack; the old leader needs ≥ 2 s to come back.
    expect(Date.now() - killedAt).toBeLessThan(1_500);
    expect(counts.get("b")).toBe(5);
    expect(await leaderName()).toBe("relay-b");

    // The old leader reconnects and competes again, as a follower.
    await waitFor(
      async () => {
        const r = await sql<{ n: string }>`
          select count(*) as n from pg_stat_activity where application_name = 'relay-a'`.execute(db);
        return Number(r.rows[0]!.n) === 1;
      },
      5_000,
      "relay-a reconnected",
    );
    // Past its poll tick, so it has tried for the lock (and lost) before these are written.
    await sleep(2_100);
    await writeTicks(10, 5);
    await waitUntil(() => got.length === 15, 5_000, "events after the old leader came back");
    await sleep(200);
    expect(got).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(counts.get("a")).toBe(5);
    expect(counts.get("b")).toBe(10);
    expect(await outboxCount()).toBe(0);
  });

  it("a stopping leader hands over at once, without waiting for the follower's poll", async () => {
    const bus = memoryBus();
    const got: number[] = [];
    await bus.consume("handover", [">"], async (e) => void got.push((e.payload as { i: number }).i));
    const counts = new Map<string, number>();
    const db2 = openTestKysely<unknown>(tdb.url);
    cleanups.push(() => db2.destroy());
    const leader = relay(countingBus(bus, counts, "a"), { pollIntervalMs: 60_000, name: "relay-a" });
    await leader.start();
    await leader.flush();
    const follower = relay(countingBus(bus, counts, "b"), {
      pollIntervalMs: 60_000,
      name: "relay-b",
      db: db2,
    });
    await follower.start();
    await writeTicks(0, 3);
    await waitUntil(() => got.length === 3, 5_000, "events before the handover");
    await leader.stop();
    await writeTicks(3, 3);
    await waitUntil(() => got.length === 6, 5_000, "events after the handover");
    expect(got).toEqual([0, 1, 2, 3, 4, 5]);
    expect([counts.get("a"), counts.get("b")]).toEqual([3, 3]);
  });

  it("the leader publishes a batch in 2 statements on its connection (SELECT, DELETE)", async () => {
    const bus = memoryBus();
    const got: number[] = [];
    await bus.consume("round-trips", [">"], async (e) => void got.push((e.payload as { i: number }).i));
    // Counts what the relay's own connection sends; pool clients share the prototype but not the name.
    const query = vi.spyOn(pg.Client.prototype, "query");
    cleanups.push(async () => query.mockRestore());
    const statements = (name = "relay-count"): string[] =>
      query.mock.calls.flatMap((args, i) => {
        const client = query.mock.contexts[i] as { connectionParameters?: { application_name?: string } };
        if (client.connectionParameters?.application_name !== name) return [];
        const text = args[0];
        return [typeof text === "string" ? text : String((text as { text?: string }).text)];
      });
    // No poll during the test: only NOTIFY wakes the relay, so every statement belongs to a batch.
    const r = relay(bus, { pollIntervalMs: 60_000, name: "relay-count" });
    await r.start();
    await r.flush();
    expect(await leaderName()).toBe("relay-count");
    // A follower hears every NOTIFY too, but must not answer each with a lock attempt.
    const db2 = openTestKysely<unknown>(tdb.url);
    cleanups.push(() => db2.destroy());
    await relay(memoryBus(), { pollIntervalMs: 60_000, name: "relay-follower", db: db2 }).start();
    await waitFor(
      async () => statements("relay-follower").length === 2,
      5_000,
      "follower's first lock attempt",
    );
    expect(statements("relay-follower")[1]).toMatch(/pg_try_advisory_lock/);
    const settled = async (n: number) => {
      await waitUntil(() => got.length === n, 5_000, `${n} events`);
      await waitFor(async () => (await outboxCount()) === 0, 5_000, "rows deleted");
      await sleep(100);
    };

    let before = statements().length;
    await writeTicks(0, 3);
    await settled(3);
    const oneBatch = statements().slice(before);
    expect(oneBatch).toHaveLength(2);
    expect(oneBatch[0]).toMatch(/^select seq/);
    expect(oneBatch[1]).toMatch(/^delete from/);

    // 250 rows at the default batch size of 100: three batches, six statements.
    before = statements().length;
    await writeTicks(3, 250);
    await settled(253);
    expect(statements().slice(before)).toHaveLength(6);
    expect(got).toEqual(Array.from({ length: 253 }, (_, i) => i));
    // LISTEN and the one attempt at start; nothing for the two NOTIFYs since.
    expect(statements("relay-follower")).toHaveLength(2);
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
    // Wait for the handler to finish (applied), not just to start (delivered): processOnce commits in between.
    await waitUntil(() => applied === 1, 5_000, "delivery applied");
    expect(delivered).toEqual([id]);
    for (let tries = 0; tries < 100 && (await outboxCount()) > 0; tries++) await sleep(50);
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
