import type { Logger } from "@beep/observability";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { assertPostgresUrl, redactDatabaseUrl } from "./database-url.ts";
import { type EmbeddedPostgresServer, startEmbeddedPostgres } from "./embedded-postgres.server.ts";

/**
 * The root handle knows no tables on purpose: every table lives in a service's schema and is reached
 * through `serviceDatabase<T>(db, schema)`, typed by that service.
 */
export type RootDatabase = Record<string, never>;

/** Name of the database the embedded server creates and Beep uses. */
export const EMBEDDED_DATABASE_NAME = "beep";

/** Options for {@link openDatabase}; mirrors `BEEP_DATABASE_URL` and the embedded defaults in config. */
export interface OpenDatabaseOptions {
  /** `postgres://…` of an existing server; unset starts the embedded PostgreSQL instead. */
  url?: string;
  /** Where the embedded server keeps its cluster and which loopback port it listens on. */
  embedded: { dataDir: string; port: number };
  /** Maximum connections in the pool. */
  poolSize: number;
  logger: Logger;
}

/** Connection pool counters, for /metrics and /readyz. */
export interface PoolStats {
  /** Open connections, idle or in use. */
  total: number;
  /** Open connections waiting for work. */
  idle: number;
  /** Queries queued because every connection is busy: sustained non-zero means the pool is too small. */
  waiting: number;
}

/** An open database: the Kysely root handle plus what operators and the kernel need around it. */
export interface DatabaseHandle {
  /** Root handle; services scope it with `serviceDatabase`. */
  readonly db: Kysely<RootDatabase>;
  /** `server` when `url` was given, `embedded` when Beep runs its own PostgreSQL. */
  readonly mode: "server" | "embedded";
  /** Connection URL with the password replaced by `***`: safe to log. */
  readonly url: string;
  /**
   * Client settings for a dedicated connection outside the pool (LISTEN/NOTIFY).
   * Holds the password: never log it.
   */
  dedicatedConnection(): pg.ClientConfig;
  /** Live pool counters (read on every access). */
  readonly poolStats: PoolStats;
  /** Closes the pool, then stops the embedded server if there is one. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Opens the database every service uses: a pool against `url` when set, otherwise an embedded
 * PostgreSQL in `embedded.dataDir` (initialised on first run). Fails at once, with the redacted URL in
 * the message, if the server cannot be reached, so misconfiguration surfaces at start and not at the
 * first request.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const { logger } = options;
  let embedded: EmbeddedPostgresServer | undefined;
  let connectionUrl: string;

  if (options.url !== undefined && options.url !== "") {
    assertPostgresUrl(options.url);
    connectionUrl = options.url;
  } else {
    try {
      embedded = await startEmbeddedPostgres({
        dataDir: options.embedded.dataDir,
        port: options.embedded.port,
        database: EMBEDDED_DATABASE_NAME,
        logger,
      });
    } catch (cause) {
      throw new Error(
        `open database (embedded PostgreSQL, data dir ${options.embedded.dataDir}, port ${options.embedded.port}): ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
    connectionUrl = embedded.url;
  }

  const url = redactDatabaseUrl(connectionUrl);
  const mode = embedded ? "embedded" : "server";
  const pool = new pg.Pool({ connectionString: connectionUrl, max: options.poolSize });
  // Without a listener, an idle connection dropped by the server (restart, failover) crashes the process.
  pool.on("error", (err) => logger.error({ err, url }, "idle database connection failed"));

  try {
    const client = await pool.connect();
    client.release();
  } catch (cause) {
    await pool.end().catch(() => undefined); // the connect error below is the one worth reporting
    await embedded?.stop();
    throw new Error(`open database ${url}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }

  const db = new Kysely<RootDatabase>({ dialect: new PostgresDialect({ pool }) });
  logger.info({ url, mode, poolSize: options.poolSize }, "database open");

  let closing: Promise<void> | undefined;
  return {
    db,
    mode,
    url,
    dedicatedConnection: () => ({ connectionString: connectionUrl }),
    get poolStats(): PoolStats {
      return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
    },
    close() {
      closing ??= (async () => {
        await db.destroy();
        await embedded?.stop();
        logger.info({ url, mode }, "database closed");
      })();
      return closing;
    },
  };
}
