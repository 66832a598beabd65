import { BeepError } from "@beep/errors";
import type { Transport } from "@connectrpc/connect";
import { currentInboundCall } from "./deadline.ts";
import { connectToBeepError } from "./rpc-errors.ts";

/**
 * Wraps a client transport (in-process or network alike) with the call policy:
 * - deadline: the call's `timeoutMs`, else `defaultTimeoutMs`, capped by what is left of the
 *   inbound call being served (if any), whose cancellation also cancels this call;
 * - typed errors: every failure surfaces as a BeepError (code and details restored).
 * Why a wrapper and not an interceptor: the timeout must be known before the transport
 * writes its timeout header, and the transport turns whatever an interceptor throws back
 * into a ConnectError.
 */
export function withCallPolicy(transport: Transport, defaultTimeoutMs: number): Transport {
  const plan = (signal: AbortSignal | undefined, timeoutMs: number | undefined) => {
    let effective = timeoutMs ?? defaultTimeoutMs;
    const parent = currentInboundCall();
    if (parent === undefined) return { signal, timeoutMs: effective };
    if (parent.deadline !== undefined) effective = Math.min(effective, parent.deadline - Date.now());
    if (effective <= 0) throw new BeepError("DEADLINE_EXCEEDED", "Deadline exceeded before the call started");
    const linked = signal ? AbortSignal.any([signal, parent.signal]) : parent.signal;
    return { signal: linked, timeoutMs: Math.ceil(effective) };
  };
  return {
    async unary(method, signal, timeoutMs, header, input, contextValues) {
      try {
        const call = plan(signal, timeoutMs);
        return await transport.unary(method, call.signal, call.timeoutMs, header, input, contextValues);
      } catch (error) {
        throw connectToBeepError(error);
      }
    },
    async stream(method, signal, timeoutMs, header, input, contextValues) {
      try {
        const call = plan(signal, timeoutMs);
        const res = await transport.stream(method, call.signal, call.timeoutMs, header, input, contextValues);
        return { ...res, message: beepErrors(res.message) };
      } catch (error) {
        throw connectToBeepError(error);
      }
    },
  };
}

// Streams fail while being read: translate errors raised during iteration too.
async function* beepErrors<T>(source: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* source;
  } catch (error) {
    throw connectToBeepError(error);
  }
}
