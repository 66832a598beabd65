import type { Logger } from "@beep/observability";
import {
  create,
  type DescMessage,
  type DescMethodUnary,
  isMessage,
  type MessageInitShape,
} from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextValues,
  type HandlerContext,
  type Transport,
  type UnaryResponse,
} from "@connectrpc/connect";
import { context, propagation, type TextMapSetter } from "@opentelemetry/api";
import { runInboundCall } from "./deadline.ts";
import { logRpcCall, serverError } from "./interceptors.ts";

const headerSetter: TextMapSetter<Headers> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

/** A unary method implementation as a service registered it. */
export type UnaryMethodImpl = (request: never, context: HandlerContext) => unknown;

/** Options of {@link createDirectTransport}. */
export interface DirectTransportOptions {
  /** The implementation of a unary method served in this process, if any. */
  lookup(method: DescMethodUnary): UnaryMethodImpl | undefined;
  /** Serves what the direct path does not: streaming methods, unknown methods. */
  fallback: Transport;
  /** The RPC access log and unexpected-error reports, as for network calls. */
  logger: Logger;
}

/**
 * Unary calls to services of this process as plain function calls: no serialisation, no protocol
 * envelope, no body streams. Connect's router transport spends more on those than many handlers spend
 * on their work, and every message sent goes through at least one such hop.
 *
 * What a caller and a handler observe stays what the network gives them: the request is a message of the
 * method's input type and the response one of its output type (init shapes are completed with `create`);
 * the handler gets the request headers, a deadline (`timeoutMs`, its signal aborts at the deadline or when
 * the caller cancels) that its own calls inherit; the caller is released at the deadline even when the
 * handler ignores it; a failure becomes the same wire error as on the network (interceptors.ts
 * `serverError`: BeepError code and details in metadata, INTERNAL with a generic message for anything
 * else, logged here), which the client's call policy turns back into a BeepError; every call writes the
 * same access-log line (`logRpcCall`). Messages are shared rather than copied: callers and handlers treat
 * them as immutable (protobuf-es messages are plain objects).
 */
export function createDirectTransport(options: DirectTransportOptions): Transport {
  const { logger, fallback } = options;
  return {
    unary(method, signal, timeoutMs, header, input, contextValues) {
      const impl = options.lookup(method as DescMethodUnary);
      if (impl === undefined) return fallback.unary(method, signal, timeoutMs, header, input, contextValues);
      return callDirect(impl, method, signal, timeoutMs, header, input, contextValues, logger);
    },
    stream(method, signal, timeoutMs, header, input, contextValues) {
      return fallback.stream(method, signal, timeoutMs, header, input, contextValues);
    },
  };
}

function callDirect<I extends DescMessage, O extends DescMessage>(
  impl: UnaryMethodImpl,
  method: DescMethodUnary<I, O>,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
  header: HeadersInit | undefined,
  input: MessageInitShape<I>,
  contextValues: ContextValues | undefined,
  logger: Logger,
): Promise<UnaryResponse<I, O>> {
  const started = performance.now();
  const cancellation = new LazyAbort();
  const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  const requestHeader = new Headers(header);
  // Handlers run in the caller's OpenTelemetry context already; the headers still carry it, as on the network.
  propagation.inject(context.active(), requestHeader, headerSetter);
  const handlerContext: HandlerContext = {
    method,
    service: method.parent,
    get signal() {
      return cancellation.signal;
    },
    timeoutMs: () => (deadline === undefined ? undefined : deadline - Date.now()),
    requestMethod: "POST",
    requestHeader,
    responseHeader: new Headers(),
    responseTrailer: new Headers(),
    protocolName: "in-process",
    values: contextValues ?? createContextValues(),
    url: `/${method.parent.typeName}/${method.name}`,
  };

  return new Promise<UnaryResponse<I, O>>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (error: ConnectError | undefined, output?: unknown) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onCallerAbort);
      logRpcCall(logger, method, "in-process", started, error);
      if (error !== undefined) {
        reject(error);
        return;
      }
      resolve({
        stream: false,
        service: method.parent,
        method,
        header: handlerContext.responseHeader,
        trailer: handlerContext.responseTrailer,
        message: isMessage(output, method.output)
          ? output
          : create(method.output, output as Parameters<typeof create<O>>[1]),
      });
    };
    const onCallerAbort = () => {
      const error = ConnectError.from(signal?.reason, Code.Canceled);
      cancellation.abort(error);
      finish(error);
    };
    if (signal?.aborted) {
      onCallerAbort();
      return;
    }
    signal?.addEventListener("abort", onCallerAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        const error = new ConnectError("the operation timed out", Code.DeadlineExceeded);
        cancellation.abort(error);
        finish(error);
      }, timeoutMs);
    }
    try {
      const request = create(method.input, input);
      const inbound = {
        deadline,
        get signal() {
          return cancellation.signal;
        },
      };
      const result = runInboundCall(inbound, () => impl(request as never, handlerContext));
      if (result instanceof Promise) {
        result.then(
          (output: unknown) => finish(undefined, output),
          (error: unknown) => finish(serverError(logger, method, cancellation.signal, error)),
        );
      } else {
        finish(undefined, result);
      }
    } catch (error) {
      finish(serverError(logger, method, cancellation.signal, error));
    }
  });
}

/**
 * A call's cancellation, its AbortController made only when someone asks for the signal (the handler, a
 * nested call, the error path). Why: most calls finish without either, and an AbortController with its
 * signal costs about as much as the rest of a direct call's bookkeeping.
 */
class LazyAbort {
  private controller: AbortController | undefined;
  private aborted = false;
  private reason: unknown;

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}
