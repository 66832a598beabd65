import type { ClientFactory } from "./client-factory.ts";
import type { RpcRegistry } from "./registry.ts";

/** What the kernel's `rpc` module gives service modules: where to register, where to get clients. */
export interface RpcRuntime {
  /** Register this process's Connect implementations here. */
  registry: RpcRegistry;
  /** Typed clients of any service, local or remote. */
  clients: ClientFactory;
}
