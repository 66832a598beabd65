import type { Logger } from "@beep/observability";
import type { DescService } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ConnectRouterOptions,
  createRouterTransport,
  createServiceImplSpec,
  type Interceptor,
  type ServiceImpl,
  type Transport,
} from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createDirectTransport, type UnaryMethodImpl } from "./direct-transport.ts";
import type { HttpRequest, HttpResponse } from "./http-listener.ts";
import { serverInterceptors } from "./interceptors.ts";

/**
 * Path prefix of every Beep RPC: contracts live in proto packages `beep.*`, and Connect/gRPC
 * paths are `/<package>.<Service>/<Method>`. Mount {@link RpcRegistry.handler} here.
 */
export const RPC_PATH_PREFIX = "/beep.";

/** Options for {@link createRpcRegistry}. */
export interface RpcRegistryOptions {
  /** Server-side RPC access log and unexpected-error reports. */
  logger: Logger;
  /** Largest deadline a caller may ask for (default: unlimited). */
  maxTimeoutMs?: number;
}

/** Options for the in-process transport, set by the client factory. */
export interface LocalTransportOptions {
  /** Client interceptors, the same ones the network transport uses. */
  interceptors: Interceptor[];
}

/** The services this process serves, exposed both to the network and to in-process callers. */
export interface RpcRegistry {
  /** Serve `service` with `impl`; call during start-up, before the first request to it. */
  service<T extends DescService>(service: T, impl: ServiceImpl<T>): void;
  /** True when a service with this type name (e.g. `beep.users.v1.UsersService`) is registered. */
  has(serviceTypeName: string): boolean;
  /** Node request handler serving Connect, gRPC and gRPC-web; mount it at {@link RPC_PATH_PREFIX}. */
  readonly handler: (req: HttpRequest, res: HttpResponse) => void;
  /**
   * An in-process transport to the registered services: unary calls are direct function calls with the
   * behaviour of network calls (see createDirectTransport); streaming calls go through Connect's router
   * transport, serialised, with the same server interceptors as the network.
   */
  localTransport(options: LocalTransportOptions): Transport;
}

interface Registration {
  register(router: ConnectRouter): void;
  /** Unary implementations by method local name, for the direct in-process path. */
  unary: Map<string, UnaryMethodImpl>;
}

/** Creates the registry every service module registers its Connect implementation with. */
export function createRpcRegistry(options: RpcRegistryOptions): RpcRegistry {
  const registrations = new Map<string, Registration>();
  // Why: transports and the handler are built from the registrations; rebuild them when a
  // service registers late (modules start in dependency order, callers may exist already).
  let version = 0;
  const routerOptions: ConnectRouterOptions = {
    interceptors: serverInterceptors(options.logger),
    ...(options.maxTimeoutMs === undefined ? {} : { maxTimeoutMs: options.maxTimeoutMs }),
  };
  const routes = (router: ConnectRouter) => {
    for (const registration of registrations.values()) registration.register(router);
  };

  let adapter: { version: number; handle: ReturnType<typeof connectNodeAdapter> } | undefined;
  const handler = (req: HttpRequest, res: HttpResponse) => {
    if (adapter?.version !== version) {
      adapter = { version, handle: connectNodeAdapter({ ...routerOptions, routes }) };
    }
    adapter.handle(req, res);
  };

  return {
    service(service, impl) {
      if (registrations.has(service.typeName))
        throw new Error(`RPC service ${service.typeName} registered twice`);
      const spec = createServiceImplSpec(service, impl);
      const unary = new Map<string, UnaryMethodImpl>();
      for (const method of Object.values(spec.methods)) {
        if (method.kind === "unary") unary.set(method.method.localName, method.impl as UnaryMethodImpl);
      }
      registrations.set(service.typeName, { register: (router) => router.service(service, impl), unary });
      version += 1;
    },

    has(serviceTypeName) {
      return registrations.has(serviceTypeName);
    },

    handler,

    localTransport(transportOptions) {
      let built: { version: number; transport: Transport } | undefined;
      const current = (service: DescService): Transport => {
        if (!registrations.has(service.typeName)) {
          throw new ConnectError(
            `RPC service ${service.typeName} is configured as local but no module registered it`,
            Code.Unimplemented,
          );
        }
        if (built?.version !== version) {
          const transport = createRouterTransport(routes, {
            transport: transportOptions,
            router: routerOptions,
          });
          built = { version, transport };
        }
        return built.transport;
      };
      const routed: Transport = {
        async unary(method, signal, timeoutMs, header, input, contextValues) {
          return current(method.parent).unary(method, signal, timeoutMs, header, input, contextValues);
        },
        async stream(method, signal, timeoutMs, header, input, contextValues) {
          return current(method.parent).stream(method, signal, timeoutMs, header, input, contextValues);
        },
      };
      // Unary calls (all but uploads) skip the protocol: see createDirectTransport.
      return createDirectTransport({
        lookup: (method) => registrations.get(method.parent.typeName)?.unary.get(method.localName),
        fallback: routed,
        logger: options.logger,
      });
    },
  };
}
