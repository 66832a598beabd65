import { BeepError } from "@beep/errors";
import { EchoService } from "@beep/proto/gen/beep/testing/v1/echo_pb.ts";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { context, propagation, TraceFlags, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type ClientFactory, createClientFactory } from "./client-factory.ts";
import { runInboundCall } from "./deadline.ts";
import { createHttpListener, type HttpListener } from "./http-listener.ts";
import { createRpcRegistry, RPC_PATH_PREFIX } from "./registry.ts";
import { type CapturedLogger, captureLogger, type EchoProbe, echoImpl } from "./test-fixtures.ts";

// Why: the lead registers these in production; tests need a real propagator and context manager.
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

interface Harness {
  server: CapturedLogger;
  /** The listener's base URL, for raw requests (network harness only). */
  peerUrl(): string;
  probe: EchoProbe;
  factory(defaultTimeoutMs?: number): ClientFactory;
  close(): Promise<void>;
}

async function inProcess(): Promise<Harness> {
  const server = captureLogger("server");
  const probe: EchoProbe = { sleepTimeoutMs: undefined, sleepAborted: false };
  const registry = createRpcRegistry({ logger: server.logger });
  registry.service(EchoService, echoImpl(probe));
  return {
    server,
    probe,
    factory: (defaultTimeoutMs = 5_000) =>
      createClientFactory({
        registry,
        isLocal: () => true,
        peerUrl: () => undefined,
        logger: captureLogger("client").logger,
        defaultTimeoutMs,
      }),
    peerUrl: () => {
      throw new Error("no listener in process");
    },
    close: async () => undefined,
  };
}

async function overNetwork(): Promise<Harness> {
  const server = captureLogger("server");
  const probe: EchoProbe = { sleepTimeoutMs: undefined, sleepAborted: false };
  const registry = createRpcRegistry({ logger: server.logger });
  registry.service(EchoService, echoImpl(probe));
  const listener: HttpListener = createHttpListener({ host: "127.0.0.1", port: 0, logger: server.logger });
  listener.route(RPC_PATH_PREFIX, registry.handler);
  const { url } = await listener.listen();
  const factories: ClientFactory[] = [];
  return {
    server,
    probe,
    peerUrl: () => url,
    factory: (defaultTimeoutMs = 5_000) => {
      const client = captureLogger("client");
      // The caller's own registry does not serve EchoService: the factory must go to the peer.
      const factory = createClientFactory({
        registry: createRpcRegistry({ logger: client.logger }),
        isLocal: () => false,
        peerUrl: (name) => (name === EchoService.typeName ? url : undefined),
        logger: client.logger,
        defaultTimeoutMs,
      });
      factories.push(factory);
      return factory;
    },
    close: async () => {
      for (const factory of factories) factory.close();
      await listener.close(1_000);
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

describe.each([
  ["in-process", inProcess],
  ["network (Connect over h2c)", overNetwork],
])("RPC %s", (_mode, setup) => {
  let h: Harness;
  const echo = () => h.factory().client(EchoService);

  beforeAll(async () => {
    h = await setup();
  });
  afterAll(async () => {
    await h.close();
  });

  it("round-trips a unary call and writes one access-log line", async () => {
    const res = await echo().echo({ text: "héllo" });
    expect(res.text).toBe("héllo");
    const line = h.server.lines.find((l) => l.message === "rpc" && l.rpc_method === "Echo");
    expect(line).toMatchObject({
      rpc_service: "beep.testing.v1.EchoService",
      rpc_code: "OK",
      rpc_protocol: _mode === "in-process" ? "in-process" : "connect",
      level: "INFO",
    });
    expect(typeof line?.response_time).toBe("number");
  });

  it("preserves a BeepError's code, message and details across the hop", async () => {
    const error = await rejection(
      echo().fail({ code: "RATE_LIMITED", message: "Slow down", field: "email", retryAfterMs: 1500 }),
    );
    expect(error).toBeInstanceOf(BeepError);
    const beep = error as BeepError;
    expect(beep.code).toBe("RATE_LIMITED");
    expect(beep.message).toBe("Slow down");
    expect(beep.details).toEqual({ field: "email", retryAfterMs: 1500 });
    expect((beep.cause as ConnectError).code).toBe(Code.ResourceExhausted);
    const line = h.server.lines.findLast((l) => l.message === "rpc" && l.rpc_method === "Fail");
    expect(line).toMatchObject({ rpc_code: "ResourceExhausted", error_code: "RATE_LIMITED" });
  });

  it("keeps codes that share a wire status apart (LIMIT_EXCEEDED vs RATE_LIMITED)", async () => {
    const error = (await rejection(echo().fail({ code: "LIMIT_EXCEEDED", message: "Too big" }))) as BeepError;
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.details).toEqual({});
  });

  it("turns an unexpected error into INTERNAL without leaking it, and logs it with its stack", async () => {
    const error = await rejection(echo().fail({ unexpected: true, message: "db password is hunter2" }));
    expect(error).toBeInstanceOf(BeepError);
    expect((error as BeepError).code).toBe("INTERNAL");
    expect((error as BeepError).message).toBe("Internal error");
    expect(JSON.stringify(error)).not.toContain("hunter2");
    expect(String((error as BeepError).cause)).not.toContain("hunter2");
    const logged = h.server.lines.find((l) => l.message === "rpc handler failed");
    expect(logged).toMatchObject({ level: "ERROR", rpc_method: "Fail" });
    // The logger's error serializer decides the field names; the stack must be there somewhere.
    expect(JSON.stringify(logged)).toMatch(/Error: db password is hunter2\\n\s+at /);
  });

  it("fails with DEADLINE_EXCEEDED when timeoutMs passes, and the handler sees the abort", async () => {
    h.probe.sleepAborted = false;
    const started = Date.now();
    const error = await rejection(echo().sleep({ durationMs: 5_000 }, { timeoutMs: 150 }));
    expect((error as BeepError).code).toBe("DEADLINE_EXCEEDED");
    expect(Date.now() - started).toBeLessThan(2_000);
    await vi.waitFor(() => expect(h.probe.sleepAborted).toBe(true));
    expect(h.probe.sleepTimeoutMs).toBeGreaterThan(0);
    expect(h.probe.sleepTimeoutMs).toBeLessThanOrEqual(150);
  });

  it("applies the factory's default timeout when the call sets none", async () => {
    const error = await rejection(h.factory(100).client(EchoService).sleep({ durationMs: 5_000 }));
    expect((error as BeepError).code).toBe("DEADLINE_EXCEEDED");
    expect(h.probe.sleepTimeoutMs).toBeLessThanOrEqual(100);
  });

  it("caps an outgoing call by the remaining deadline of the inbound call being served", async () => {
    const inbound = new AbortController();
    const error = await rejection(
      runInboundCall({ deadline: Date.now() + 120, signal: inbound.signal }, () =>
        echo().sleep({ durationMs: 5_000 }, { timeoutMs: 10_000 }),
      ),
    );
    expect((error as BeepError).code).toBe("DEADLINE_EXCEEDED");
    expect(h.probe.sleepTimeoutMs).toBeLessThanOrEqual(120);
  });

  it("completes a call that finishes within its deadline", async () => {
    const res = await echo().sleep({ durationMs: 20 }, { timeoutMs: 2_000 });
    expect(res.completed).toBe(true);
  });

  it("propagates W3C trace context to the handler", async () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const spanId = "b7ad6b7169203331";
    const active = trace.setSpanContext(context.active(), {
      traceId,
      spanId,
      traceFlags: TraceFlags.SAMPLED,
    });
    const res = await context.with(active, () => echo().echo({ text: "t" }));
    expect(res.traceparent).toBe(`00-${traceId}-${spanId}-01`);
    expect(res.traceId).toBe(traceId);
  });
});

describe("requests over the network", () => {
  it("refuse text that cannot be stored with BAD_USER_INPUT on its field before the handler runs", async () => {
    const h = await overNetwork();
    try {
      const echo = h.factory().client(EchoService);
      const error = (await rejection(echo.echo({ text: "a\u0000b" }))) as BeepError;
      expect(error).toBeInstanceOf(BeepError);
      expect(error).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "text" } });
      // Binary protobuf has no unpaired surrogate (the encoder writes U+FFFD); a JSON body may carry one,
      // which protobuf-es refuses while decoding, before any interceptor.
      const url = h.peerUrl();
      const response = await fetch(`${url}/beep.testing.v1.EchoService/Echo`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"text":"a\\ud800"}',
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        code: "invalid_argument",
        message: expect.stringContaining("invalid UTF8"),
      });
      const served = h.server.lines.filter((l) => l.message === "rpc" && l.rpc_method === "Echo");
      expect(served.map((l) => l.error_code)).toEqual(["BAD_USER_INPUT"]);
      expect((await echo.echo({ text: "👋 fine" })).text).toBe("👋 fine");
    } finally {
      await h.close();
    }
  });
});

/** An Echo service on its own listener, with the server's log lines. */
async function echoListener() {
  const { logger, lines } = captureLogger();
  const registry = createRpcRegistry({ logger });
  registry.service(EchoService, echoImpl({ sleepTimeoutMs: undefined, sleepAborted: false }));
  const listener = createHttpListener({ host: "127.0.0.1", port: 0, logger });
  listener.route(RPC_PATH_PREFIX, registry.handler);
  const { url } = await listener.listen();
  return { lines, url, listener };
}

describe("the same handler over the other protocols", () => {
  it("serves gRPC over h2c (grpcurl and other gRPC clients) on the shared listener, errors included", async () => {
    const { lines, url, listener } = await echoListener();
    try {
      const grpc = createClient(EchoService, createGrpcTransport({ baseUrl: url }));
      expect((await grpc.echo({ text: "h2" })).text).toBe("h2");
      const failure = await rejection(grpc.fail({ code: "NOT_FOUND", message: "no such thing" }));
      expect(failure).toMatchObject({ code: Code.NotFound, rawMessage: "no such thing" });
      expect(lines.filter((l) => l.message === "rpc").map((l) => l.rpc_protocol)).toEqual(["grpc", "grpc"]);
    } finally {
      await listener.close(500);
    }
  });

  it("serves Connect and gRPC-web over HTTP/1.1 on the shared listener", async () => {
    const { lines, url, listener } = await echoListener();
    try {
      for (const transport of [
        createConnectTransport({ baseUrl: url, httpVersion: "1.1" }),
        createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1" }),
      ]) {
        expect((await createClient(EchoService, transport).echo({ text: "h1" })).text).toBe("h1");
      }
      const protocols = lines.filter((l) => l.message === "rpc").map((l) => l.rpc_protocol);
      expect(protocols).toEqual(["connect", "grpc-web"]);
    } finally {
      await listener.close(500);
    }
  });
});

describe("createClientFactory topology errors", () => {
  it("fails at client creation when a remote service has no peer URL", () => {
    const { logger } = captureLogger();
    const factory = createClientFactory({
      registry: createRpcRegistry({ logger }),
      isLocal: () => false,
      peerUrl: () => undefined,
      logger,
    });
    expect(() => factory.client(EchoService)).toThrow(/beep\.testing\.v1\.EchoService .*no peer URL/);
  });

  it("rejects a peer URL that is not http(s)", () => {
    const { logger } = captureLogger();
    const factory = createClientFactory({
      registry: createRpcRegistry({ logger }),
      isLocal: () => false,
      peerUrl: () => "nats://x:4222",
      logger,
    });
    expect(() => factory.client(EchoService)).toThrow(/must be http/);
  });

  it("reuses one transport per peer", () => {
    const { logger, lines } = captureLogger();
    const factory = createClientFactory({
      registry: createRpcRegistry({ logger }),
      isLocal: () => false,
      peerUrl: () => "http://127.0.0.1:1/",
      logger,
    });
    factory.client(EchoService);
    factory.client(EchoService);
    expect(lines.filter((l) => l.message === "rpc peer transport created")).toHaveLength(1);
    factory.close();
  });

  it("says clearly when a local service was never registered", async () => {
    const { logger } = captureLogger();
    const factory = createClientFactory({
      registry: createRpcRegistry({ logger }),
      isLocal: () => true,
      peerUrl: () => undefined,
      logger,
    });
    const error = (await rejection(factory.client(EchoService).echo({ text: "x" }))) as BeepError;
    expect(error.message).toMatch(/configured as local but no module registered it/);
  });

  it("serves a service registered after the in-process transport was created", async () => {
    const { logger } = captureLogger();
    const registry = createRpcRegistry({ logger });
    const factory = createClientFactory({ registry, isLocal: () => true, peerUrl: () => undefined, logger });
    const client = factory.client(EchoService);
    registry.service(EchoService, echoImpl({ sleepTimeoutMs: undefined, sleepAborted: false }));
    expect((await client.echo({ text: "late" })).text).toBe("late");
  });
});

describe("ConnectError passthrough", () => {
  it("keeps a ConnectError thrown by a handler as its own code", async () => {
    const { logger } = captureLogger();
    const registry = createRpcRegistry({ logger });
    registry.service(EchoService, {
      ...echoImpl({ sleepTimeoutMs: undefined, sleepAborted: false }),
      echo() {
        throw new ConnectError("nope", Code.PermissionDenied);
      },
    });
    const factory = createClientFactory({ registry, isLocal: () => true, peerUrl: () => undefined, logger });
    const error = (await rejection(factory.client(EchoService).echo({ text: "x" }))) as BeepError;
    expect(error.code).toBe("FORBIDDEN");
    expect(error.message).toBe("nope");
  });
});
