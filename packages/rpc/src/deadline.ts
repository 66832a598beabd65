import { AsyncLocalStorage } from "node:async_hooks";

/** What an RPC handler's outgoing calls inherit from the call being served. */
export interface InboundCall {
  /** Epoch ms when the caller stops waiting, if it set a deadline. */
  deadline: number | undefined;
  /** Aborted when the inbound call is cancelled or times out. */
  signal: AbortSignal;
}

const inbound = new AsyncLocalStorage<InboundCall>();

/** Runs `fn` (an RPC handler) so that RPCs it makes inherit the inbound call's deadline and cancellation. */
export function runInboundCall<T>(call: InboundCall, fn: () => T): T {
  return inbound.run(call, fn);
}

/**
 * The inbound deadline from request headers: `grpc-timeout` (gRPC, gRPC-web) or
 * `connect-timeout-ms` (Connect, which the in-process transport speaks), relative to `now`.
 */
export function deadlineFromHeaders(header: Headers, now = Date.now()): number | undefined {
  const connect = header.get("connect-timeout-ms");
  if (connect !== null && /^\d{1,10}$/.test(connect)) return now + Number(connect);
  const grpc = header.get("grpc-timeout");
  const match = grpc === null ? null : /^(\d{1,8})([HMSmun])$/.exec(grpc);
  if (!match) return undefined;
  const unitMs: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };
  return now + Number(match[1]) * (unitMs[match[2] ?? "m"] ?? 1);
}

/** The inbound call whose handler is running now, if any. */
export function currentInboundCall(): InboundCall | undefined {
  return inbound.getStore();
}
