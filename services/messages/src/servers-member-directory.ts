import { ChannelDirectoryService } from "@beep/proto/gen/beep/servers/v1/channel_directory_pb.ts";
import { ServersService } from "@beep/proto/gen/beep/servers/v1/servers_pb.ts";
import type { ClientFactory } from "@beep/rpc";
import { internalCallOptions } from "@beep/servers";
import type { MemberDirectory } from "./read-states.service.ts";

/**
 * {@link MemberDirectory} over servers' RPCs: the visible channels acting for the caller (their token),
 * so servers decides what they can view; their roles through the internal single-member lookup.
 */
export function serversMemberDirectory(
  clients: ClientFactory,
  userId: string,
  authorization: string,
  internalToken: string,
): MemberDirectory {
  const servers = clients.client(ServersService);
  const directory = clients.client(ChannelDirectoryService);
  const options = { headers: { authorization } };
  return {
    async visibleChannels(serverId) {
      const { channels } = await servers.listChannels({ serverId }, options);
      return channels.map((channel) => ({ id: channel.id, type: channel.type }));
    },
    async roleIds(serverId) {
      const { roleIds } = await directory.memberRoles(
        { serverId, userId },
        internalCallOptions(internalToken),
      );
      return roleIds;
    },
  };
}
