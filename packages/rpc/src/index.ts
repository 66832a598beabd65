export {
  type ClientFactory,
  type ClientFactoryOptions,
  createClientFactory,
  DEFAULT_RPC_TIMEOUT_MS,
} from "./client-factory.ts";
export { EDGE_ONLY_HEADERS, stripEdgeOnlyHeaders } from "./edge-only-headers.ts";
export {
  createHttpListener,
  type HttpListener,
  type HttpListenerOptions,
  type HttpRequest,
  type HttpResponse,
  type RequestDone,
  type RouteHandler,
  type UpgradeHandler,
} from "./http-listener.ts";
export {
  createRpcRegistry,
  type LocalTransportOptions,
  RPC_PATH_PREFIX,
  type RpcRegistry,
  type RpcRegistryOptions,
} from "./registry.ts";
export {
  BEEP_ERROR_METADATA_KEY,
  beepCodeFor,
  beepToConnectError,
  connectCodeFor,
  connectToBeepError,
  INTERNAL_ERROR_MESSAGE,
} from "./rpc-errors.ts";
export type { RpcRuntime } from "./rpc-runtime.ts";
