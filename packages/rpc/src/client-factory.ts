import type { Logger } from "@beep/observability";
import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { withCallPolicy } from "./client-transport.ts";
import { clientInterceptors } from "./interceptors.ts";
import type { RpcRegistry } from "./registry.ts";

/** Default per-call deadline when neither the call nor an inbound call sets one. */
export const DEFAULT_RPC_TIMEOUT_MS = 10_000;

/** Options for {@link createClientFactory}. */
export interface ClientFactoryOptions {
  /** Serves the services that run in this process. */
  registry: RpcRegistry;
  /** Topology: does this process serve the service (e.g. `beep.users.v1.UsersService`)? */
  isLocal: (serviceTypeName: string) => boolean;
  /** Topology: base URL (`http://host:port`, h2c) of a process serving a non-local service. */
  peerUrl: (serviceTypeName: string) => string | undefined;
  /** Records which transport each service gets. */
  logger: Logger;
  /** Per-call deadline unless the call passes `timeoutMs` (default {@link DEFAULT_RPC_TIMEOUT_MS}). */
  defaultTimeoutMs?: number;
}

/** Hands out typed clients; the one place that decides between in-process and network. */
export interface ClientFactory {
  /** A client for `service`; throws at once (start-up) when a remote service has no valid peer URL. */
  client<T extends DescService>(service: T): Client<T>;
  /** Closes the HTTP/2 sessions to peers; clients made earlier fail afterwards. */
  close(): void;
}

/**
 * Creates the client factory. Local services get the registry's in-process transport; remote
 * ones get the Connect protocol (binary) over cleartext HTTP/2 to their peer, one transport (one HTTP/2
 * session) per peer URL. Both carry the same interceptors and deadline handling.
 */
export function createClientFactory(options: ClientFactoryOptions): ClientFactory {
  const timeoutMs = options.defaultTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
  const interceptors = clientInterceptors();
  let local: Transport | undefined;
  const peers = new Map<string, { transport: Transport; sessions: Http2SessionManager }>();

  function transportFor(serviceTypeName: string): Transport {
    if (options.isLocal(serviceTypeName)) {
      local ??= withCallPolicy(options.registry.localTransport({ interceptors }), timeoutMs);
      return local;
    }
    const baseUrl = validPeerUrl(serviceTypeName, options.peerUrl(serviceTypeName));
    let peer = peers.get(baseUrl);
    if (!peer) {
      const sessions = new Http2SessionManager(baseUrl);
      // The Connect protocol with binary protobuf over HTTP/2, cleartext (h2c prior knowledge): the peer's
      // listener serves it next to gRPC and gRPC-web, and a unary call costs both ends about two thirds of
      // a gRPC one (no envelope, no trailers; `npm run bench`, RPC hop, ADR 0008).
      const network = createConnectTransport({
        baseUrl,
        httpVersion: "2",
        useBinaryFormat: true,
        sessionManager: sessions,
        interceptors,
      });
      peer = { transport: withCallPolicy(network, timeoutMs), sessions };
      peers.set(baseUrl, peer);
      options.logger.info({ peer_url: baseUrl }, "rpc peer transport created");
    }
    return peer.transport;
  }

  // Callers may ask for a client per request: one per service, made once.
  const clients = new Map<DescService, Client<DescService>>();
  return {
    client<T extends DescService>(service: T): Client<T> {
      const made = clients.get(service);
      if (made) return made as Client<T>;
      const transport = transportFor(service.typeName);
      options.logger.debug(
        { rpc_service: service.typeName, transport: transport === local ? "in-process" : "connect-h2c" },
        "rpc client created",
      );
      const client = createClient(service, transport);
      clients.set(service, client as Client<DescService>);
      return client;
    },
    close() {
      clients.clear();
      for (const peer of peers.values()) peer.sessions.abort();
      peers.clear();
    },
  };
}

function validPeerUrl(serviceTypeName: string, url: string | undefined): string {
  if (url === undefined || url === "") {
    throw new Error(
      `RPC service ${serviceTypeName} is not served by this process and has no peer URL configured; ` +
        "start its target here or configure the address of a process that serves it",
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new Error(`peer URL for RPC service ${serviceTypeName} is not a URL: ${url}`, { cause: error });
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new Error(`peer URL for RPC service ${serviceTypeName} must be http:// (h2c) or https://: ${url}`);
  }
  return parsed.origin + parsed.pathname.replace(/\/$/, "");
}
