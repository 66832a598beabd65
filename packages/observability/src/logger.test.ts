import type { DestinationStream } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { audit } from "./audit.ts";
import { createLogger, REDACTED, TRUNCATED } from "./logger.ts";
import { setupTracing, type Tracing, withSpan } from "./tracing.ts";

// Captures what the logger writes; each write must be exactly one JSON line.
function capture(): { destination: DestinationStream; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  return {
    destination: { write: (chunk: string) => void chunks.push(chunk) },
    lines: () =>
      chunks.map((chunk) => {
        expect(chunk.endsWith("\n")).toBe(true);
        expect(chunk.slice(0, -1)).not.toContain("\n");
        return JSON.parse(chunk) as Record<string, unknown>;
      }),
  };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let tracing: Tracing;
beforeAll(() => {
  tracing = setupTracing({ service: "logger-test", exporter: "memory" });
});
afterAll(async () => {
  await tracing.shutdown();
});

describe("createLogger", () => {
  it("writes the seeds' fields, upper-case level and ISO timestamp", () => {
    const out = capture();
    const logger = createLogger({ service: "users", destination: out.destination });
    logger.info({ user_id: "42" }, "User authentication successful");
    logger.debug("below the default level");
    const [line, ...rest] = out.lines();
    expect(rest).toEqual([]);
    expect(Object.keys(line ?? {}).sort()).toEqual(
      ["container_id", "level", "message", "service", "timestamp", "user_id"].sort(),
    );
    expect(line).toMatchObject({
      level: "INFO",
      service: "users",
      message: "User authentication successful",
    });
    expect(line?.timestamp).toMatch(ISO);
    expect(typeof line?.container_id).toBe("string");
    expect(line?.container_id).not.toBe("");
  });

  it("turns { err } into error_type, error_message and stack_trace with causes", () => {
    const out = capture();
    const logger = createLogger({ service: "payments", destination: out.destination });
    const cause = new Error("connection reset");
    const err = Object.assign(new TypeError("x is null", { cause }), { code: "E_NULL" });
    logger.error({ err, context: "User ID: 12345, Transaction ID: 67890" }, "Payment processing failed");
    logger.error(new RangeError("bare error"));
    logger.error({ err: "thrown string" }, "non-error thrown");
    const [withContext, bare, stringThrown] = out.lines();

    expect(Object.keys(withContext ?? {}).sort()).toEqual(
      [
        "container_id",
        "context",
        "error_code",
        "error_message",
        "error_type",
        "level",
        "message",
        "service",
        "stack_trace",
        "timestamp",
      ].sort(),
    );
    expect(withContext).toMatchObject({
      level: "ERROR",
      message: "Payment processing failed",
      error_type: "TypeError",
      error_message: "x is null",
      error_code: "E_NULL",
      context: "User ID: 12345, Transaction ID: 67890",
    });
    expect(withContext?.stack_trace).toMatch(/^TypeError: x is null\n\s+at /);
    expect(withContext?.stack_trace).toContain("caused by: Error: connection reset");

    expect(bare).toMatchObject({
      message: "bare error",
      error_type: "RangeError",
      error_message: "bare error",
    });
    expect(bare).not.toHaveProperty("err");
    expect(stringThrown).toMatchObject({ error_type: "string", error_message: "thrown string" });
    expect(stringThrown).not.toHaveProperty("stack_trace");
  });

  it("redacts secrets at any depth, whatever the key's case or separators", () => {
    const out = capture();
    const logger = createLogger({ service: "users", destination: out.destination, redactKeys: ["ssn"] });
    const fields = {
      password: "hunter2",
      req: {
        method: "POST",
        headers: { authorization: "Bearer abc", "set-cookie": "sid=1", "x-api-key": "k1" },
      },
      body: { session: { refreshToken: "rt-secret-1", deviceName: "laptop" } },
      oauth: { refresh_token: "rt-secret-2", Authorization: "Basic xyz" },
      enrollment: { totpSecret: "JBSWY3DP", recoveryCodes: ["a", "b"], otp: "123456" },
      users: [{ password: "p" }],
      a: { b: { c: { d: { e: { password: "deep-secret" } } } } },
      profile: { ssn: "000-00-0000" },
      code: 404,
      token: undefined,
    };
    const before = structuredClone(fields);
    logger.info(fields, "login");
    const [line] = out.lines();
    expect(line).toEqual(
      expect.objectContaining({
        password: REDACTED,
        req: {
          method: "POST",
          headers: { authorization: REDACTED, "set-cookie": REDACTED, "x-api-key": REDACTED },
        },
        body: { session: { refreshToken: REDACTED, deviceName: "laptop" } },
        oauth: { refresh_token: REDACTED, Authorization: REDACTED },
        enrollment: { totpSecret: REDACTED, recoveryCodes: REDACTED, otp: REDACTED },
        users: [{ password: REDACTED }],
        a: { b: { c: { d: { e: { password: REDACTED } } } } },
        profile: { ssn: REDACTED },
        code: 404,
      }),
    );
    expect(line).not.toHaveProperty("token");
    expect(JSON.stringify(line)).not.toMatch(
      /hunter2|Bearer abc|rt-secret|Basic xyz|JBSWY3DP|123456|deep-secret|000-00|k1/,
    );
    expect(fields).toEqual(before);
  });

  it("redacts child bindings and truncates objects nested past the walk's depth", () => {
    const out = capture();
    const logger = createLogger({ service: "users", destination: out.destination });
    logger
      .child({ session: { accessToken: "at-1" }, user_id: "9" })
      .child({ apiKey: "k2" })
      .info({ l1: { l2: { l3: { l4: { l5: { l6: { l7: { l8: { l9: "x" } } } } } } } } }, "deep");
    const [line] = out.lines();
    expect(line).toMatchObject({ session: { accessToken: REDACTED }, user_id: "9", apiKey: REDACTED });
    expect(line).toMatchObject({ l1: { l2: { l3: { l4: { l5: { l6: { l7: { l8: TRUNCATED } } } } } } } });
  });

  it("adds trace_id and span_id inside a span only", async () => {
    const out = capture();
    const logger = createLogger({ service: "messages", destination: out.destination });
    logger.info("outside");
    let ids: { traceId: string; spanId: string } | undefined;
    await withSpan("send", async (span) => {
      ids = span.spanContext();
      await Promise.resolve();
      logger.child({ channel_id: "7" }).info("inside");
    });
    const [outside, inside] = out.lines();
    expect(outside).not.toHaveProperty("trace_id");
    expect(outside).not.toHaveProperty("span_id");
    expect(inside).toMatchObject({ trace_id: ids?.traceId, span_id: ids?.spanId, channel_id: "7" });
    expect(inside?.trace_id).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe("audit", () => {
  it("writes an INFO line with log_type audit and the seeds' fields", () => {
    const out = capture();
    const logger = createLogger({ service: "users", destination: out.destination });
    audit(logger, {
      action: "USER_CREATED",
      actor: "1001",
      target: "1002",
      ip: "203.0.113.9",
      details: { username: "john.doe", password: "secret!" },
    });
    audit(logger, { action: "LOGIN_FAILED", outcome: "failure" });
    const [created, failed] = out.lines();
    expect(Object.keys(created ?? {}).sort()).toEqual(
      [
        "action",
        "container_id",
        "details",
        "ip",
        "level",
        "log_type",
        "message",
        "outcome",
        "service",
        "target",
        "timestamp",
        "user",
      ].sort(),
    );
    expect(created).toMatchObject({
      level: "INFO",
      log_type: "audit",
      action: "USER_CREATED",
      user: "1001",
      target: "1002",
      outcome: "success",
      ip: "203.0.113.9",
      details: { username: "john.doe", password: REDACTED },
    });
    expect(failed).toMatchObject({ action: "LOGIN_FAILED", user: null, outcome: "failure", details: {} });
    expect(failed).not.toHaveProperty("target");
  });

  it("flags a malformed action instead of dropping the record", () => {
    const out = capture();
    const logger = createLogger({ service: "users", destination: out.destination });
    audit(logger, { action: "USER CREATED" });
    expect(out.lines()[0]).toMatchObject({ action: "USER CREATED", action_malformed: true });
  });
});
