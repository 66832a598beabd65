import { ChannelDirectoryService } from "@beep/proto/gen/beep/servers/v1/channel_directory_pb.ts";
import { PermissionsService } from "@beep/proto/gen/beep/servers/v1/permissions_pb.ts";
import type { ClientFactory } from "@beep/rpc";
import { internalCallOptions } from "@beep/servers";
import type {
  ChannelDirectory,
  ChannelLocation,
  MentionQuery,
  ResolvedMentionIds,
} from "./channel-access.ts";

/** {@link ChannelDirectory} over servers' internal RPCs (ADR 0004), in one process or split. */
export class ServersChannelDirectory implements ChannelDirectory {
  private readonly permissions;
  private readonly directory;
  private readonly options;

  constructor(clients: ClientFactory, internalToken: string) {
    this.permissions = clients.client(PermissionsService);
    this.directory = clients.client(ChannelDirectoryService);
    this.options = internalCallOptions(internalToken);
  }

  async locate(channelId: string): Promise<ChannelLocation | undefined> {
    const { channels } = await this.directory.locateChannels({ channelIds: [channelId] }, this.options);
    const found = channels[0];
    return found && found.serverId !== "" ? { serverId: found.serverId, type: found.type } : undefined;
  }

  async channelBits(userId: string, serverId: string, channelId: string): Promise<bigint> {
    const { channels } = await this.permissions.channelPermissions(
      { userId, serverId, channelIds: [channelId] },
      this.options,
    );
    return BigInt(channels[0]?.permissions ?? "0");
  }

  async resolveMentions(query: MentionQuery): Promise<ResolvedMentionIds> {
    const result = await this.directory.resolveMentions(
      {
        serverId: query.serverId,
        channelId: query.channelId,
        senderId: query.senderId,
        userIds: [...query.userIds],
        roleNames: [...query.roleNames],
        roleIds: [...query.roleIds],
        channelNames: [...query.channelNames],
        channelIds: [...query.channelIds],
      },
      this.options,
    );
    return { userIds: result.userIds, roleIds: result.roleIds, channelIds: result.channelIds };
  }
}
