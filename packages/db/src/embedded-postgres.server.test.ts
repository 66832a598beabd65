import { type ChildProcess, spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "./database.factory.ts";
import { embeddedAdminUrl, freePort, tempDir, testLogger } from "./db-test.fixture.ts";

const logger = testLogger();
const parents: string[] = [];
const children: ChildProcess[] = [];

async function newDataDir(): Promise<{ dataDir: string; port: number }> {
  const parent = await tempDir("embedded");
  parents.push(parent);
  return { dataDir: path.join(parent, "postgres"), port: await freePort() };
}

/** Starts embedded-child.fixture.ts in its own Node process and waits until it has written its row. */
async function startChild(dataDir: string, port: number): Promise<ChildProcess> {
  const script = fileURLToPath(new URL("./embedded-child.fixture.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", script, dataDir, String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    lines.on("line", (line) => line.includes('"ready":true') && resolve());
    child.once("exit", (code) => reject(new Error(`child exited (${code}) before ready: ${stderr}`)));
  });
  return child;
}

async function postmasterPid(dataDir: string): Promise<number> {
  return Number.parseInt(
    (await fs.readFile(path.join(dataDir, "postmaster.pid"), "utf8")).split("\n")[0]!,
    10,
  );
}

/** Running, as opposed to gone or a zombie nobody reaped yet (this machine's PID 1 does not reap). */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  return stat !== undefined && stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
}

function killHard(pid: number): void {
  process.kill(pid, "SIGKILL");
}

async function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once("exit", resolve));
}

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await waitForExit(child);
  }
});

afterAll(async () => {
  for (const parent of parents) await fs.rm(parent, { recursive: true, force: true });
});

describe("embedded PostgreSQL", () => {
  it("initialises on first run, keeps data across a restart, and reports both start times", async () => {
    const { dataDir, port } = await newDataDir();
    const coldStart = performance.now();
    const first = await openDatabase({ embedded: { dataDir, port }, poolSize: 2, logger });
    const coldMs = performance.now() - coldStart;
    expect(first.mode).toBe("embedded");
    expect(first.url).toBe(`postgres://postgres:***@127.0.0.1:${port}/beep`);
    await sql`create table public.notes (body text)`.execute(first.db);
    await sql`insert into public.notes values ('survives restart')`.execute(first.db);
    await first.close();

    const warmStart = performance.now();
    const second = await openDatabase({ embedded: { dataDir, port }, poolSize: 2, logger });
    const warmMs = performance.now() - warmStart;
    try {
      const rows = await sql<{ body: string }>`select body from public.notes`.execute(second.db);
      expect(rows.rows).toEqual([{ body: "survives restart" }]);
      const db = await sql<{ d: string }>`select current_database() as d`.execute(second.db);
      expect(db.rows[0]?.d).toBe("beep");
    } finally {
      await second.close();
    }
    // Printed so the numbers show up in CI logs; ADR 0001 records the measured values.
    console.info(`embedded PostgreSQL start: cold ${Math.round(coldMs)} ms, warm ${Math.round(warmMs)} ms`);
    expect(warmMs).toBeLessThan(coldMs);
  });

  it("stops the server on close(): the port stops answering", async () => {
    const { dataDir, port } = await newDataDir();
    const handle = await openDatabase({ embedded: { dataDir, port }, poolSize: 1, logger });
    const pid = await postmasterPid(dataDir);
    await handle.close();
    await handle.close(); // second close is harmless
    expect(await isRunning(pid)).toBe(false);
    const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "beep" });
    await expect(client.connect()).rejects.toThrow(/ECONNREFUSED/);
  });

  it("owns its data dir as postgres 0700 and does not let local users in without the password", async () => {
    const { dataDir, port } = await newDataDir();
    const handle = await openDatabase({ embedded: { dataDir, port }, poolSize: 1, logger });
    try {
      const stat = await fs.stat(dataDir);
      expect(stat.mode & 0o777).toBe(0o700);
      expect(stat.uid).not.toBe(0);
      const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "beep" });
      await expect(client.connect()).rejects.toThrow(/password/);
    } finally {
      await handle.close();
    }
  });

  it("refuses a second live process on the same data dir, naming the owner", async () => {
    const { dataDir, port } = await newDataDir();
    const child = await startChild(dataDir, port);
    await expect(openDatabase({ embedded: { dataDir, port }, poolSize: 1, logger })).rejects.toThrow(
      new RegExp(`data dir ${dataDir} is in use: .* belongs to the running process ${child.pid}`),
    );
    // The refusal must not have disturbed the owner's server.
    const client = new pg.Client({ connectionString: await embeddedAdminUrl(dataDir, port) });
    await client.connect();
    try {
      const rows = await client.query("select pid from public.child_marks");
      expect(rows.rows).toEqual([{ pid: child.pid }]);
    } finally {
      await client.end();
    }
  });

  it("refuses to open the same data dir twice in one process", async () => {
    const { dataDir, port } = await newDataDir();
    const handle = await openDatabase({ embedded: { dataDir, port }, poolSize: 1, logger });
    try {
      await expect(openDatabase({ embedded: { dataDir, port }, poolSize: 1, logger })).rejects.toThrow(
        /is in use: .*\(this process\)/,
      );
    } finally {
      await handle.close();
    }
  });

  it("starts again after the owning process and its PostgreSQL were killed with SIGKILL (stale postmaster.pid)", async () => {
    const { dataDir, port } = await newDataDir();
    const child = await startChild(dataDir, port);
    const pid = await postmasterPid(dataDir);
    killHard(pid);
    killHard(child.pid!);
    await waitForExit(child);
    await expect(fs.stat(path.join(dataDir, "postmaster.pid"))).resolves.toBeDefined();

    const handle = await openDatabase({ embedded: { dataDir, port }, poolSize: 1, logger });
    try {
      const rows = await sql<{ pid: number }>`select pid from public.child_marks`.execute(handle.db);
      expect(rows.rows).toEqual([{ pid: child.pid }]);
      expect(await postmasterPid(dataDir)).not.toBe(pid);
    } finally {
      await handle.close();
    }
  });

  it("shuts down an orphaned PostgreSQL whose Beep process was killed, then starts its own", async () => {
    const { dataDir, port } = await newDataDir();
    const child = await startChild(dataDir, port);
    const orphan = await postmasterPid(dataDir);
    killHard(child.pid!);
    await waitForExit(child);
    expect(await isRunning(orphan)).toBe(true); // still running without its owner

    const handle = await openDatabase({ embedded: { dataDir, port }, poolSize: 1, logger });
    try {
      expect(await isRunning(orphan)).toBe(false);
      const rows = await sql<{ pid: number }>`select pid from public.child_marks`.execute(handle.db);
      expect(rows.rows).toEqual([{ pid: child.pid }]);
    } finally {
      await handle.close();
    }
  });

  it("explains which directory keeps user postgres out of the data dir", async () => {
    const parent = await tempDir("private");
    parents.push(parent);
    const locked = path.join(parent, "locked");
    await fs.mkdir(locked, { mode: 0o700 });
    const dataDir = path.join(locked, "postgres");
    const error = await openDatabase({
      embedded: { dataDir, port: await freePort() },
      poolSize: 1,
      logger,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/user postgres \(uid \d+\) cannot reach data dir/);
    expect((error as Error).message).toContain(`${dataDir}: ${locked} has mode 0700`);
  });

  it("says the port is taken when another server listens on it", async () => {
    const { dataDir } = await newDataDir();
    // 5432 is the machine's PostgreSQL, which the server-mode tests use.
    await expect(openDatabase({ embedded: { dataDir, port: 5432 }, poolSize: 1, logger })).rejects.toThrow(
      /port 5432 on 127\.0\.0\.1 is already in use/,
    );
  });
});
