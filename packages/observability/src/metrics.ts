import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Options for {@link createMetrics}. */
export interface MetricsOptions {
  /** Target name (`all`, `messages`…), added to every series as the `target` label. */
  service: string;
  /** Collect Node process metrics (CPU, memory, event-loop lag, GC); defaults to true. */
  defaultMetrics?: boolean;
}

/** One finished HTTP request, for {@link Metrics.observeHttp}. */
export interface HttpObservation {
  /** HTTP method, e.g. `GET`. */
  method: string;
  /** Route template (`/channels/:id`), never the raw path: raw ids explode cardinality. */
  route: string;
  /** Response status code. */
  status: number;
  /** Time from request start to response end, in milliseconds. */
  durationMs: number;
}

/** One finished RPC call, for {@link Metrics.observeRpc}. */
export interface RpcObservation {
  /** Fully-qualified RPC service, e.g. `beep.messages.v1.MessagesService`. */
  service: string;
  /** RPC method name, e.g. `SendMessage`. */
  method: string;
  /** Connect/gRPC code name (`ok`, `not_found`, `permission_denied`…). */
  code: string;
  /** Call duration in milliseconds. */
  durationMs: number;
}

/** One labelled value returned by a gauge's collect function. */
export interface GaugeSample {
  /** Label values; keys must be among the gauge's label names. */
  labels: Record<string, string | number>;
  /** Current value. */
  value: number;
}

/** Reads a gauge's current value(s) at scrape time. */
export type GaugeCollector = () => number | GaugeSample[] | Promise<number | GaugeSample[]>;

/** A Prometheus registry of one process part, with Beep's standard series. */
export interface Metrics {
  /** The underlying registry, for service-specific metrics (`registers: [metrics.registry]`). */
  readonly registry: Registry;
  /** Records an HTTP request in `http_requests_total` and `http_request_duration_seconds`. */
  observeHttp(observation: HttpObservation): void;
  /** Records an RPC call in `rpc_requests_total` and `rpc_request_duration_seconds`. */
  observeRpc(observation: RpcObservation): void;
  /**
   * Adds a gauge read by {@link Metrics.render} at scrape time (bus lag, db pool
   * total/idle/waiting). A collector that throws leaves the gauge without series
   * (NaN when unlabelled) for that scrape and counts `metrics_collect_errors_total{metric}`.
   */
  registerGauge(name: string, help: string, labelNames: readonly string[], collect: GaugeCollector): void;
  /** Runs the gauge collectors, then renders the registry in Prometheus text format for `GET /metrics`. */
  render(): Promise<{ contentType: string; body: string }>;
}

// Prometheus' client defaults, stated so dashboards can rely on them: 5 ms to 10 s
// fits both in-process RPC hops and slow HTTP uploads.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Creates a metrics registry. Each call has its own `Registry` (never prom-client's
 * global one), so two instances in one process — tests, or several kernels — do not collide.
 */
export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ target: options.service });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  const registers = [registry];
  const httpTotal = new Counter({
    name: "http_requests_total",
    help: "HTTP requests by method, route template and status code.",
    labelNames: ["method", "route", "status"] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration in seconds, by method and route template.",
    labelNames: ["method", "route"] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const rpcTotal = new Counter({
    name: "rpc_requests_total",
    help: "RPC calls by service, method and Connect code.",
    labelNames: ["service", "method", "code"] as const,
    registers,
  });
  const rpcDuration = new Histogram({
    name: "rpc_request_duration_seconds",
    help: "RPC call duration in seconds, by service and method.",
    labelNames: ["service", "method"] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const collectErrors = new Counter({
    name: "metrics_collect_errors_total",
    help: "Scrape-time gauge collectors that threw, by metric name.",
    labelNames: ["metric"] as const,
    registers,
  });

  const collectors: Array<() => Promise<void>> = [];

  return {
    registry,
    observeHttp({ method, route, status, durationMs }) {
      const m = method.toUpperCase();
      httpTotal.inc({ method: m, route, status: String(status) });
      httpDuration.observe({ method: m, route }, durationMs / 1000);
    },
    observeRpc({ service, method, code, durationMs }) {
      rpcTotal.inc({ service, method, code });
      rpcDuration.observe({ service, method }, durationMs / 1000);
    },
    registerGauge(name, help, labelNames, collect) {
      const gauge = new Gauge({ name, help, labelNames: [...labelNames], registers });
      collectors.push(async () => {
        let result: number | GaugeSample[];
        try {
          result = await collect();
        } catch {
          // One broken collector must not fail the whole scrape: its series go
          // away (NaN when unlabelled) and the error counter says it broke.
          gauge.reset();
          if (labelNames.length === 0) gauge.set(Number.NaN);
          collectErrors.inc({ metric: name });
          return;
        }
        // Reset first so label sets that disappeared (a closed pool) stop being exported.
        gauge.reset();
        if (typeof result === "number") gauge.set(result);
        else for (const sample of result) gauge.set(sample.labels, sample.value);
      });
    },
    async render() {
      // Collectors run here, together, rather than as prom-client `collect`
      // callbacks: the registry awaits those one by one in registration order, so a
      // failure could not be counted in the same scrape and slow reads would add up.
      await Promise.all(collectors.map((run) => run()));
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
