import { ChannelDirectoryService as ChannelDirectoryServiceDesc } from "@beep/proto/gen/beep/servers/v1/channel_directory_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { ChannelDirectoryService } from "./channel-directory.service.ts";
import type { InternalCallerGuard } from "./internal-caller.ts";

/** The Connect implementation of `beep.servers.v1.ChannelDirectoryService` (internal calls only). */
export function channelDirectoryRoutes(
  directory: ChannelDirectoryService,
  internal: InternalCallerGuard,
): ServiceImpl<typeof ChannelDirectoryServiceDesc> {
  return {
    async locateChannels(request, context) {
      internal.require(context.requestHeader);
      return { channels: await directory.locate(request.channelIds) };
    },
    async resolveMentions(request, context) {
      internal.require(context.requestHeader);
      return directory.resolveMentions(request);
    },
    async memberRoles(request, context) {
      internal.require(context.requestHeader);
      return directory.memberRoles(request.serverId, request.userId);
    },
  };
}

export { ChannelDirectoryServiceDesc };
