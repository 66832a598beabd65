import { context, propagation, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { afterAll, describe, expect, it } from "vitest";
import { setupTracing, withSpan } from "./tracing.ts";

// A file of its own: tracing is set up once per process (see tracing.test.ts for the memory exporter).
const tracing = setupTracing({ service: "tracing-none-test", exporter: "none" });
afterAll(async () => {
  await tracing.shutdown();
});

describe("setupTracing without an exporter", () => {
  it("gives spans real ids that nest and propagate, without recording them", async () => {
    const seen = await withSpan("outer", async (outer) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      const headers: Record<string, string> = {};
      propagation.inject(context.active(), headers);
      const inner = withSpan("inner", (span) => span.spanContext());
      return { outer: outer.spanContext(), recording: outer.isRecording(), inner, headers };
    });
    expect(seen.outer.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(seen.outer.traceId).not.toBe("0".repeat(32));
    expect(seen.inner.traceId).toBe(seen.outer.traceId);
    expect(seen.inner.spanId).not.toBe(seen.outer.spanId);
    expect(seen.recording).toBe(false);
    expect(seen.headers.traceparent).toBe(`00-${seen.outer.traceId}-${seen.outer.spanId}-00`);
    const received = propagation.extract(ROOT_CONTEXT, seen.headers);
    expect(trace.getSpanContext(received)?.traceId).toBe(seen.outer.traceId);
  });
});
