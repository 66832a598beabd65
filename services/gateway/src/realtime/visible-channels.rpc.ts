import { VisibilityService } from "@beep/proto/gen/beep/servers/v1/visibility_pb.ts";
import type { ClientFactory } from "@beep/rpc";
import { internalCallOptions } from "@beep/servers";
import type { VisibleChannelsFn } from "./server-audience-index.ts";

/**
 * {@link VisibleChannelsFn} over the servers service's internal VisibleChannels RPC, always fresh (the
 * index asks right after a change, which the servers permission cache may not have heard of yet). The
 * internal token is config `rpc.internalToken` (ADR 0004): split deployments set it on servers and
 * gateway alike; all-in-one shares the process's random token through @beep/servers.
 */
export function visibleChannelsOverRpc(clients: ClientFactory, internalToken: string): VisibleChannelsFn {
  const visibility = clients.client(VisibilityService);
  return async (userIds) => {
    const answer = await visibility.visibleChannels(
      { userIds: [...userIds], fresh: true },
      internalCallOptions(internalToken),
    );
    return answer.users.map((user) => ({
      userId: user.userId,
      servers: user.servers.map((server) => ({ serverId: server.serverId, channelIds: server.channelIds })),
    }));
  };
}
