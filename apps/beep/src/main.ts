#!/usr/bin/env node
import "./node-env.ts";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { type BeepConfig, ConfigError, describeConfig, listConfigKeys, loadConfig } from "@beep/config";
import { migrateSchema, openDatabase, serviceDatabase } from "@beep/db";
import { Kernel, KernelError } from "@beep/kernel";
import { createLogger, type Metrics, type ObservabilityRuntime } from "@beep/observability";
import { createHttpListener } from "@beep/rpc";
import { forceSigningKeyRotation, SigningKeyRepository, USERS_SCHEMA } from "@beep/users";
import { mountHealthRoutes } from "./health.routes.ts";
import { createModuleGraph, SERVICE_MIGRATIONS } from "./module-graph.ts";

const USAGE = `Usage:
  beep [--target=all|users,gateway,…] [--config=FILE]   run the chosen targets (default: all)
  beep --list-targets                                   print the targets
  beep config check [--config=FILE]                     validate the configuration and print it (secrets masked)
  beep config defaults                                  print every key, its variable, default and doc
  beep migrate [--config=FILE]                          apply every service's database migrations and exit
  beep keys rotate [--config=FILE]                      create a new token signing key now (processes use it within auth.signingKeyReloadSeconds)
`;

function fail(message: string, exitCode = 2): never {
  process.stderr.write(`beep: ${message}\n`);
  process.exit(exitCode);
}

function readConfig(file: string | undefined): BeepConfig {
  try {
    return loadConfig(file ? { file } : {});
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

function printDefaults(): void {
  for (const key of listConfigKeys()) {
    const value = key.secret && key.defaultValue !== "" ? "[secret]" : JSON.stringify(key.defaultValue);
    process.stdout.write(`# ${key.doc}\n${key.path} = ${value}    (${key.env})\n\n`);
  }
}

async function migrate(config: BeepConfig): Promise<void> {
  const logger = createLogger({ service: "migrate", level: config.log.level });
  const database = await openDatabase({
    ...(config.database.url ? { url: config.database.url } : {}),
    embedded: { dataDir: resolve(config.database.embeddedDir), port: config.database.embeddedPort },
    poolSize: 2,
    logger,
  });
  try {
    for (const { schema, migrations } of SERVICE_MIGRATIONS) {
      const { applied } = await migrateSchema(database.db, schema, migrations, logger);
      logger.info({ schema, applied }, applied.length ? "migrations applied" : "schema up to date");
    }
  } finally {
    await database.close();
  }
}

async function rotateKeys(config: BeepConfig): Promise<void> {
  const logger = createLogger({ service: "keys", level: config.log.level });
  const database = await openDatabase({
    ...(config.database.url ? { url: config.database.url } : {}),
    embedded: { dataDir: resolve(config.database.embeddedDir), port: config.database.embeddedPort },
    poolSize: 2,
    logger,
  });
  try {
    const kid = await forceSigningKeyRotation(
      new SigningKeyRepository(serviceDatabase(database.db, USERS_SCHEMA)),
      config.auth,
    );
    process.stdout.write(`new signing key ${kid}\n`);
  } finally {
    await database.close();
  }
}

async function run(config: BeepConfig, targetFlag: string): Promise<void> {
  const processName = targetFlag === "all" ? "beep" : targetFlag.replaceAll(",", "-");
  const logger = createLogger({ service: processName, level: config.log.level });
  let metrics: Metrics | undefined;
  const listener = createHttpListener({
    host: config.http.host,
    port: config.http.port,
    logger,
    onRequestDone: (done) => metrics?.observeHttp(done),
  });
  const kernel = new Kernel(createModuleGraph(config, listener, processName), logger);
  let targets: Set<string>;
  try {
    targets = kernel.resolveTargets(targetFlag);
  } catch (error) {
    fail((error as Error).message);
  }
  mountHealthRoutes(listener, kernel, () => metrics);

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string, exitCode: number) => {
    if (stopping) return stopping;
    logger.info({ reason }, "stopping");
    stopping = (async () => {
      // Stop accepting and drain requests first, then stop modules in reverse order.
      await listener
        .close(config.http.shutdownGraceMs)
        .catch((error: unknown) => logger.error({ err: error }, "close listener"));
      await kernel.stop();
      logger.info({ reason }, "stopped");
      logger.flush();
      process.exitCode = exitCode;
      // Why: a library that forgot to unref a timer must not keep a stopped process alive.
      setTimeout(() => process.exit(exitCode), 1_000).unref();
    })();
    return stopping;
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (stopping) {
        logger.warn({ signal }, "second signal: exiting now");
        process.exit(130);
      }
      void shutdown(signal, 0);
    });
  }
  kernel.onFailure((error) => void shutdown(`module failure: ${error.message}`, 1));
  process.on("unhandledRejection", (reason) => {
    logger.error({ err: reason }, "unhandled promise rejection");
    void shutdown("unhandled rejection", 1);
  });

  const began = performance.now();
  try {
    await kernel.start(targets);
  } catch (error) {
    logger.error({ err: error }, "start-up failed");
    await listener.close(0).catch(() => {});
    logger.flush();
    fail(error instanceof KernelError ? error.message : String(error), 1);
  }
  metrics = kernel.value<ObservabilityRuntime>("observability")?.metrics;
  const { url } = await listener.listen();
  logger.info(
    {
      url,
      graphql: `${url}/graphql`,
      targets: [...targets],
      started_ms: Math.round(performance.now() - began),
    },
    `Beep is ready at ${url}/graphql`,
  );
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      target: { type: "string", default: "all" },
      config: { type: "string" },
      "list-targets": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return void process.stdout.write(USAGE);
  const [command, subcommand] = positionals;
  if (values["list-targets"]) {
    const kernel = new Kernel(
      createModuleGraph(
        loadConfig({ env: {} }),
        createHttpListener({
          host: "127.0.0.1",
          port: 0,
          logger: createLogger({ service: "beep", level: "silent" }),
        }),
        "beep",
      ),
      createLogger({ service: "beep", level: "silent" }),
    );
    return void process.stdout.write(`${kernel.listTargets().join("\n")}\n`);
  }
  if (command === "config" && subcommand === "defaults") return printDefaults();
  if (command === "config" && subcommand === "check") {
    const config = readConfig(values.config);
    process.stdout.write(`configuration is valid\n${describeConfig(config).join("\n")}\n`);
    return;
  }
  if (command === "migrate") return migrate(readConfig(values.config));
  if (command === "keys" && subcommand === "rotate") return rotateKeys(readConfig(values.config));
  if (command !== undefined && command !== "run") fail(`unknown command "${command}"\n${USAGE}`);
  await run(readConfig(values.config), values.target);
}

main().catch((error: unknown) => {
  process.stderr.write(`beep: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
