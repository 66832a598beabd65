import { context, propagation, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { afterAll, describe, expect, it } from "vitest";
import { setupTracing, withSpan } from "./tracing.ts";

const tracing = setupTracing({ service: "tracing-test", exporter: "memory" });
afterAll(async () => {
  await tracing.shutdown();
});

describe("setupTracing", () => {
  it("is idempotent in one process", () => {
    const again = setupTracing({ service: "other", exporter: "none" });
    expect(again).toBe(tracing);
    expect(again.options).toEqual({ service: "tracing-test", exporter: "memory" });
  });

  it("gives a span started inside another the same trace id and parent", async () => {
    const ids = await withSpan("outer", async (outer) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      const inner = withSpan("inner", (span) => span.spanContext(), { "beep.channel_id": "7" });
      return { outer: outer.spanContext(), inner };
    });
    expect(ids.inner.traceId).toBe(ids.outer.traceId);
    expect(ids.inner.spanId).not.toBe(ids.outer.spanId);

    const spans = tracing.finishedSpans?.() ?? [];
    const inner = spans.find((s) => s.name === "inner");
    expect(inner?.parentSpanContext?.spanId).toBe(ids.outer.spanId);
    expect(inner?.attributes["beep.channel_id"]).toBe("7");
    expect(spans.find((s) => s.name === "outer")?.ended).toBe(true);
  });

  it("marks a failing span as an error and rethrows", async () => {
    await expect(
      withSpan("fails", async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    const failed = tracing.finishedSpans?.().find((s) => s.name === "fails");
    expect(failed?.status).toMatchObject({ code: 2, message: "boom" });
    expect(failed?.events[0]?.name).toBe("exception");
  });

  it("keeps the trace id through W3C inject and extract on a header carrier", () => {
    withSpan("client-call", (span) => {
      const headers: Record<string, string> = {};
      propagation.inject(context.active(), headers);
      expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

      const received = propagation.extract(ROOT_CONTEXT, headers);
      expect(trace.getSpanContext(received)?.traceId).toBe(span.spanContext().traceId);
      const serverSpan = tracing.tracer.startSpan("server-handle", {}, received);
      expect(serverSpan.spanContext().traceId).toBe(span.spanContext().traceId);
      serverSpan.end();
    });
  });
});
