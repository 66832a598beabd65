import { BeepError, type ErrorDetails, isErrorCode } from "@beep/errors";
import { createLogger, type Logger } from "@beep/observability";
import type { EchoService } from "@beep/proto/gen/beep/testing/v1/echo_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import { context, trace } from "@opentelemetry/api";

/** A logger whose JSON lines are kept in memory, for assertions on access logs. */
export interface CapturedLogger {
  /** The logger to hand to the code under test. */
  logger: Logger;
  /** Every line written so far, parsed. */
  lines: Record<string, unknown>[];
}

/** Creates a {@link CapturedLogger} (synchronous writes, so lines are visible at once). */
export function captureLogger(service = "test"): CapturedLogger {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service,
    level: "debug",
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { logger, lines };
}

/** What the test EchoService handlers observed. */
export interface EchoProbe {
  /** `ctx.timeoutMs()` seen by the last Sleep call. */
  sleepTimeoutMs: number | undefined;
  /** True once a Sleep handler saw its context signal abort. */
  sleepAborted: boolean;
}

/** Implementation of the test-only EchoService contract (beep.testing.v1). */
export function echoImpl(probe: EchoProbe): ServiceImpl<typeof EchoService> {
  return {
    echo(req, ctx) {
      return {
        text: req.text,
        traceparent: ctx.requestHeader.get("traceparent") ?? "",
        traceId: trace.getSpanContext(context.active())?.traceId ?? "",
      };
    },
    async sleep(req, ctx) {
      probe.sleepTimeoutMs = ctx.timeoutMs();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, req.durationMs);
        ctx.signal.addEventListener(
          "abort",
          () => {
            probe.sleepAborted = true;
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
      if (ctx.signal.aborted) throw ctx.signal.reason;
      return { completed: true };
    },
    fail(req) {
      if (req.unexpected) throw new Error(req.message);
      const details: ErrorDetails = {};
      if (req.field) details.field = req.field;
      if (req.retryAfterMs !== undefined) details.retryAfterMs = req.retryAfterMs;
      throw new BeepError(isErrorCode(req.code) ? req.code : "INTERNAL", req.message, details);
    },
  };
}
