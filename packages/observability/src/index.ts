export { type AuditEntry, audit } from "./audit.ts";
export {
  createLogger,
  type ErrorFields,
  errorFields,
  type Logger,
  type LoggerOptions,
  REDACTED,
  REDACTED_KEYS,
  TRUNCATED,
} from "./logger.ts";
export {
  createMetrics,
  type GaugeCollector,
  type GaugeSample,
  type HttpObservation,
  type Metrics,
  type MetricsOptions,
  type RpcObservation,
} from "./metrics.ts";
export { redactUrl } from "./redact-url.ts";
export type { ObservabilityRuntime } from "./runtime.ts";
export {
  setupTracing,
  type TraceExporterKind,
  type Tracing,
  type TracingOptions,
  withSpan,
} from "./tracing.ts";
