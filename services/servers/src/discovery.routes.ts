import type { CallerAuthenticator } from "@beep/auth";
import { DiscoveryService as DiscoveryServiceDesc } from "@beep/proto/gen/beep/servers/v1/discovery_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { DiscoveryService } from "./discovery.service.ts";

/** The Connect implementation of `beep.servers.v1.DiscoveryService`: authenticates, translates and delegates. */
export function discoveryRoutes(
  discovery: DiscoveryService,
  callers: CallerAuthenticator,
): ServiceImpl<typeof DiscoveryServiceDesc> {
  return {
    async discoverServers(request, context) {
      return discovery.discover(await callers.authenticate(context), request);
    },
  };
}

export { DiscoveryServiceDesc };
