import { ServersService } from "@beep/proto/gen/beep/servers/v1/servers_pb.ts";
import type { ClientFactory } from "@beep/rpc";
import type { MemberDirectory } from "./read-states.service.ts";

/**
 * {@link MemberDirectory} over servers' public RPCs acting for the caller (their token): servers
 * decides which channels they can view and shows their membership.
 */
export function serversMemberDirectory(
  clients: ClientFactory,
  userId: string,
  authorization: string,
): MemberDirectory {
  const servers = clients.client(ServersService);
  const options = { headers: { authorization } };
  return {
    async visibleChannels(serverId) {
      const { channels } = await servers.listChannels({ serverId }, options);
      return channels.map((channel) => ({ id: channel.id, type: channel.type }));
    },
    // Why the member list: servers has no single-member read; a follow-up may add an internal one.
    async roleIds(serverId) {
      const { members } = await servers.listMembers({ serverId }, options);
      return members.find((member) => member.userId === userId)?.roleIds ?? [];
    },
  };
}
