import { resolve } from "node:path";
import { type BlobStore, openBlobStore } from "@beep/blob";
import { type Bus, openBus } from "@beep/bus";
import type { BeepConfig } from "@beep/config";
import { type DatabaseHandle, openDatabase } from "@beep/db";
import { defineModule } from "@beep/kernel";
import {
  createLogger,
  createMetrics,
  type Logger,
  type ObservabilityRuntime,
  setupTracing,
} from "@beep/observability";
import {
  createClientFactory,
  createRpcRegistry,
  type HttpListener,
  RPC_PATH_PREFIX,
  type RpcRuntime,
} from "@beep/rpc";
import { sql } from "kysely";
import { parsePeers, targetOfService } from "../topology.ts";

/** The validated configuration, as a module so services declare that they read it. */
export function configModule(config: BeepConfig) {
  return defineModule({ name: "config", deps: [], init: async () => ({ value: config }) });
}

/** Loggers, metrics and tracing for the process. */
export function observabilityModule(config: BeepConfig, processName: string) {
  return defineModule<ObservabilityRuntime>({
    name: "observability",
    deps: [],
    async init() {
      const loggers = new Map<string, Logger>();
      const tracing = setupTracing({ service: processName, exporter: "none" });
      return {
        value: {
          logger: (service) => {
            let logger = loggers.get(service);
            if (!logger) {
              logger = createLogger({ service, level: config.log.level });
              loggers.set(service, logger);
            }
            return logger;
          },
          metrics: createMetrics({ service: processName }),
          tracing,
        },
        stop: () => tracing.shutdown(),
      };
    },
  });
}

/** The one HTTP listener; the binary listens after every module started and closes it first on stop. */
export function httpModule(listener: HttpListener) {
  return defineModule({ name: "http", deps: [], init: async () => ({ value: listener }) });
}

/** PostgreSQL: a server from `database.url`, or the embedded one. */
export function databaseModule(config: BeepConfig) {
  return defineModule<DatabaseHandle>({
    name: "db",
    deps: ["observability"],
    async init(k) {
      const { logger, metrics } = k.get<ObservabilityRuntime>("observability");
      const handle = await openDatabase({
        ...(config.database.url ? { url: config.database.url } : {}),
        embedded: { dataDir: resolve(config.database.embeddedDir), port: config.database.embeddedPort },
        poolSize: config.database.poolSize,
        logger: logger("db"),
      });
      metrics.registerGauge("db_pool_connections", "PostgreSQL pool connections by state", ["state"], () => {
        const stats = handle.poolStats;
        return [
          { labels: { state: "total" }, value: stats.total },
          { labels: { state: "idle" }, value: stats.idle },
          { labels: { state: "waiting" }, value: stats.waiting },
        ];
      });
      return {
        value: handle,
        stop: () => handle.close(),
        ready: async () => {
          await sql`select 1`.execute(handle.db);
        },
      };
    },
  });
}

/** The event bus; refuses `memory://` when services are split across processes. */
export function busModule(config: BeepConfig, allTargets: readonly string[]) {
  return defineModule<Bus>({
    name: "bus",
    deps: ["observability"],
    async init(k) {
      const split = allTargets.some((target) => !k.targets.has(target)) || config.rpc.peers !== "";
      if (split && config.bus.url.startsWith("memory:")) {
        throw new Error(
          "bus.url is memory://, which only reaches this process, but services are split across processes " +
            "(--target is not all, or rpc.peers is set); set BEEP_BUS_URL=nats://host:4222",
        );
      }
      const logger = k.get<ObservabilityRuntime>("observability").logger("bus");
      const bus = await openBus(config.bus.url, {
        logger,
        name: [...k.targets].sort().join("-"),
        prefix: config.bus.prefix,
      });
      return { value: bus, stop: () => bus.close(), ready: () => bus.ping() };
    },
  });
}

/** RPC: registers this process's services on the listener and hands out clients for the rest. */
export function rpcModule(config: BeepConfig) {
  return defineModule<RpcRuntime>({
    name: "rpc",
    deps: ["observability", "http"],
    async init(k) {
      const logger = k.get<ObservabilityRuntime>("observability").logger("rpc");
      const peers = parsePeers(config.rpc.peers);
      const registry = createRpcRegistry({ logger });
      const clients = createClientFactory({
        registry,
        logger,
        defaultTimeoutMs: config.rpc.timeoutMs,
        isLocal: (serviceTypeName) => k.targets.has(targetOfService(serviceTypeName)),
        peerUrl: (serviceTypeName) => peers.get(targetOfService(serviceTypeName)),
      });
      k.get<HttpListener>("http").route(RPC_PATH_PREFIX, registry.handler);
      return { value: { registry, clients }, stop: async () => clients.close() };
    },
  });
}

/** Blob storage (profile pictures, attachments) at `blob.url`. */
export function blobModule(config: BeepConfig) {
  return defineModule<BlobStore>({
    name: "blob",
    deps: [],
    async init() {
      const store = await openBlobStore(config.blob.url);
      return { value: store, stop: () => store.close() };
    },
  });
}
