import { BeepError, firstUnstorablePath, UNSTORABLE_TEXT_MESSAGE } from "@beep/errors";
import type { Logger } from "@beep/observability";
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor, type StreamResponse } from "@connectrpc/connect";
import { context, propagation, type TextMapGetter, type TextMapSetter } from "@opentelemetry/api";
import { deadlineFromHeaders, runInboundCall } from "./deadline.ts";
import { beepToConnectError, INTERNAL_ERROR_MESSAGE } from "./rpc-errors.ts";

const headerSetter: TextMapSetter<Headers> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

const headerGetter: TextMapGetter<Headers> = {
  keys: (carrier) => [...carrier.keys()],
  get: (carrier, key) => carrier.get(key) ?? undefined,
};

/**
 * Server interceptors, outermost first: trace context and inherited deadline, access log,
 * error mapping, storable text. The registry applies the same list to the network handler and the
 * router transport (direct in-process calls come from this process's own code, already checked).
 */
export function serverInterceptors(logger: Logger): Interceptor[] {
  return [inboundContext(), accessLog(logger), serverErrors(logger), storableTextRequests()];
}

/**
 * Client interceptors, the same for both transports: trace context out. (Deadlines and typed
 * errors are applied by `withCallPolicy`, outside the transport, see there for why.)
 */
export function clientInterceptors(): Interceptor[] {
  return [traceInject()];
}

// Extracts W3C trace context into the active OpenTelemetry context and records the inbound
// deadline, so spans and RPCs made by the handler continue this call.
function inboundContext(): Interceptor {
  return (next) => (req) => {
    const traced = propagation.extract(context.active(), req.header, headerGetter);
    const call = { deadline: deadlineFromHeaders(req.header), signal: req.signal };
    return context.with(traced, () => runInboundCall(call, () => next(req)));
  };
}

// A request holding text PostgreSQL cannot store (NUL, unpaired surrogate) is BAD_USER_INPUT naming the field,
// before any handler runs: it would fail its statement (INTERNAL) or be silently altered. The gateway refuses
// the same in GraphQL; this covers callers that come over RPC.
function storableTextRequests(): Interceptor {
  return (next) => (req) => {
    if (!req.stream) {
      const path = firstUnstorablePath(req.message, "");
      if (path !== undefined)
        throw new BeepError("BAD_USER_INPUT", UNSTORABLE_TEXT_MESSAGE, { field: path.slice(1) });
    }
    return next(req);
  };
}

// One line per RPC, in the access-log fields plus the RPC's identity and final code.
function accessLog(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const log = (error: unknown) => logRpcCall(logger, req.method, protocolOf(req.header), started, error);
    try {
      const res = await next(req);
      if (!res.stream) {
        log(undefined);
        return res;
      }
      return withStream(res, (error) => log(error));
    } catch (error) {
      log(error);
      throw error;
    }
  };
}

/** Writes the access-log line of one served RPC (`error` undefined when it succeeded). */
export function logRpcCall(
  logger: Logger,
  method: DescMethod,
  protocol: string,
  started: number,
  error: unknown,
): void {
  if (!logger.isLevelEnabled("info")) return;
  const failure = error === undefined ? undefined : ConnectError.from(error);
  const beep = failure?.cause instanceof BeepError ? failure.cause.code : undefined;
  logger.info(
    {
      rpc_service: method.parent.typeName,
      rpc_method: method.name,
      rpc_protocol: protocol,
      rpc_code: failure ? Code[failure.code] : "OK",
      ...(beep ? { error_code: beep } : {}),
      response_time: Math.round((performance.now() - started) * 10) / 10,
    },
    "rpc",
  );
}

// BeepError → ConnectError with code + details in metadata; ConnectError (deliberate
// protocol errors, deadline) passes through; anything else is logged with its stack and
// sent as INTERNAL with a generic message, so no internal detail leaks to the caller.
function serverErrors(logger: Logger): Interceptor {
  return (next) => async (req) => {
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return withStream(res, undefined, (error) => serverError(logger, req.method, req.signal, error));
    } catch (error) {
      throw serverError(logger, req.method, req.signal, error);
    }
  };
}

/** What a handler's failure becomes on the wire (see serverErrors); `signal` is the call's. */
export function serverError(
  logger: Logger,
  method: DescMethod,
  signal: AbortSignal,
  error: unknown,
): ConnectError {
  if (error instanceof BeepError) return beepToConnectError(error);
  if (error instanceof ConnectError) return error;
  if (signal.aborted) return ConnectError.from(signal.reason, Code.Canceled);
  logger.error(
    { err: error, rpc_service: method.parent.typeName, rpc_method: method.name },
    "rpc handler failed",
  );
  return new ConnectError(INTERNAL_ERROR_MESSAGE, Code.Internal);
}

// Injects the active OpenTelemetry context (traceparent, tracestate, baggage) into request headers.
function traceInject(): Interceptor {
  return (next) => (req) => {
    propagation.inject(context.active(), req.header, headerSetter);
    return next(req);
  };
}

function protocolOf(header: Headers): string {
  const type = header.get("content-type") ?? "";
  if (type.startsWith("application/grpc-web")) return "grpc-web";
  if (type.startsWith("application/grpc")) return "grpc";
  return "connect";
}

// Streams fail while being read, not when the call returns: wrap the message iterable to
// observe the end (onEnd) and translate errors (mapError).
function withStream(
  res: StreamResponse,
  onEnd?: (error: unknown) => void,
  mapError?: (error: unknown) => unknown,
): StreamResponse {
  const source = res.message;
  async function* wrapped() {
    try {
      yield* source;
      onEnd?.(undefined);
    } catch (error) {
      onEnd?.(error);
      throw mapError ? mapError(error) : error;
    }
  }
  return { ...res, message: wrapped() };
}
