import { createLogger } from "@beep/observability";
import { EchoService } from "@beep/proto/gen/beep/testing/v1/echo_pb.ts";
import { createClientFactory, createHttpListener, createRpcRegistry } from "@beep/rpc";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";

/** Calls per second and latency percentiles of one way of reaching a service. */
export interface HopFigures {
  callsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

async function drive(
  client: Client<typeof EchoService>,
  calls: number,
  concurrency: number,
): Promise<HopFigures> {
  const latencies: number[] = [];
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) {
        next++;
        const start = performance.now();
        await client.echo({ text: "hello" });
        latencies.push(performance.now() - start);
      }
    }),
  );
  const seconds = (performance.now() - began) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { callsPerSecond: calls / seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
}

/**
 * The cost of a service hop, both ways the client factory can take: the
 * in-process direct call (same process, no serialisation) and the Connect
 * protocol over cleartext HTTP/2 to another listener on loopback; next to them,
 * gRPC to the same listener (what the factory spoke before ADR 0008, and what
 * outside gRPC clients speak). Same service, same run.
 */
export async function benchRpcHop(calls = 20_000, concurrency = 32) {
  const logger = createLogger({ service: "bench", level: "silent" });
  const registry = createRpcRegistry({ logger });
  registry.service(EchoService, {
    echo: (request) => ({ text: request.text }),
    sleep: () => ({}),
    fail: () => ({}),
  });
  const listener = createHttpListener({ host: "127.0.0.1", port: 0, logger });
  listener.route("/beep.", registry.handler);
  const { url } = await listener.listen();
  const local = createClientFactory({ registry, logger, isLocal: () => true, peerUrl: () => undefined });
  const remote = createClientFactory({
    registry: createRpcRegistry({ logger }),
    logger,
    isLocal: () => false,
    peerUrl: () => url,
  });
  const grpcSessions = new Http2SessionManager(url);
  const grpcClient = createClient(
    EchoService,
    createGrpcTransport({ baseUrl: url, sessionManager: grpcSessions }),
  );
  try {
    // Warm every path (JIT, HTTP/2 session) before measuring.
    await drive(local.client(EchoService), 2_000, concurrency);
    await drive(remote.client(EchoService), 2_000, concurrency);
    await drive(grpcClient, 2_000, concurrency);
    const inProcess = await drive(local.client(EchoService), calls, concurrency);
    const network = await drive(remote.client(EchoService), calls, concurrency);
    const grpc = await drive(grpcClient, calls, concurrency);
    return { inProcess, network, grpc, ratio: inProcess.callsPerSecond / network.callsPerSecond };
  } finally {
    grpcSessions.abort();
    remote.close();
    await listener.close(1_000);
  }
}
