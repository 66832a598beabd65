import type { Logger } from "pino";
import type { Metrics } from "./metrics.ts";
import type { Tracing } from "./tracing.ts";

/** What the kernel's `observability` module gives every other module. */
export interface ObservabilityRuntime {
  /** A logger whose lines carry `service` = the given target name. */
  logger(service: string): Logger;
  /** The process's metrics registry, rendered at `/metrics`. */
  metrics: Metrics;
  /** The process's tracer provider. */
  tracing: Tracing;
}
