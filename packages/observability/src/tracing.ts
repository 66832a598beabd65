import {
  type Attributes,
  context,
  propagation,
  type Span,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  AlwaysOffSampler,
  ConsoleSpanExporter,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";

/** Where finished spans go: nowhere (ids only, for logs and propagation), stdout, or memory (tests). */
export type TraceExporterKind = "none" | "console" | "memory";

/** Options for {@link setupTracing}. */
export interface TracingOptions {
  /** Service (target) name; also the instrumentation scope of the returned tracer. */
  service: string;
  /** Span exporter; defaults to `none`. */
  exporter?: TraceExporterKind;
}

/** The process-wide tracing setup returned by {@link setupTracing}. */
export interface Tracing {
  /** Tracer named after the service. */
  readonly tracer: Tracer;
  /** Options of the call that actually installed tracing (later calls reuse it). */
  readonly options: Readonly<Required<TracingOptions>>;
  /** Flushes and stops the provider and unregisters the globals, so setup may run again. */
  shutdown(): Promise<void>;
  /** Spans finished so far; only with the `memory` exporter. */
  finishedSpans?(): ReadableSpan[];
}

// Kept on globalThis rather than in a module variable: the OpenTelemetry API
// globals are process-wide too, and a second copy of this module (tests, bundles)
// must see the same setup instead of failing to re-register them.
const SETUP_KEY = Symbol.for("beep.observability.tracing");
type GlobalWithTracing = typeof globalThis & { [SETUP_KEY]?: Tracing };

/**
 * Installs a NodeTracerProvider (AsyncLocalStorage context manager) and the W3C
 * trace-context + baggage propagators as the OpenTelemetry globals. Idempotent:
 * a second call returns the first setup unchanged, whatever its options.
 */
export function setupTracing(options: TracingOptions): Tracing {
  const holder = globalThis as GlobalWithTracing;
  const existing = holder[SETUP_KEY];
  if (existing !== undefined) return existing;

  const exporterKind = options.exporter ?? "none";
  const memory = exporterKind === "memory" ? new InMemorySpanExporter() : undefined;
  const spanProcessors: SpanProcessor[] = [];
  if (memory !== undefined) spanProcessors.push(new SimpleSpanProcessor(memory));
  if (exporterKind === "console") spanProcessors.push(new SimpleSpanProcessor(new ConsoleSpanExporter()));

  // With `none`, spans still get real ids (logs carry trace_id, RPC hops propagate traceparent) but are
  // not recorded: nothing would read their attributes and timings, and recording every request's spans
  // cost a busy gateway a few percent of its CPU.
  const provider = new NodeTracerProvider({
    spanProcessors,
    ...(exporterKind === "none" ? { sampler: new AlwaysOffSampler() } : {}),
  });
  // contextManager left undefined = the SDK's AsyncLocalStorageContextManager.
  provider.register({
    propagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  });

  const setup: Tracing = {
    tracer: trace.getTracer(options.service),
    options: { service: options.service, exporter: exporterKind },
    async shutdown() {
      if (holder[SETUP_KEY] !== setup) return;
      delete holder[SETUP_KEY];
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
    ...(memory !== undefined ? { finishedSpans: () => memory.getFinishedSpans() } : {}),
  };
  holder[SETUP_KEY] = setup;
  return setup;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"
  );
}

function fail(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/**
 * Runs `fn` inside a new active span (child of the current one) and ends it when
 * `fn` returns or its promise settles; a throw or rejection marks the span as an
 * error and is rethrown. Without {@link setupTracing} spans are no-ops.
 */
export function withSpan<T>(name: string, fn: (span: Span) => T, attributes?: Attributes): T {
  const tracer = trace.getTracer("beep");
  return tracer.startActiveSpan(name, attributes === undefined ? {} : { attributes }, (span) => {
    let result: T;
    try {
      result = fn(span);
    } catch (error) {
      fail(span, error);
      span.end();
      throw error;
    }
    if (!isPromiseLike(result)) {
      span.end();
      return result;
    }
    return Promise.resolve(result).then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        fail(span, error);
        span.end();
        throw error;
      },
    ) as T;
  });
}
