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
import type { SearchPermissions } from "./message-search.ts";

/** {@link ChannelDirectory} over servers' internal RPCs (ADR 0004), in one process or split. */
export class ServersChannelDirectory implements ChannelDirectory, SearchPermissions {
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

  /** Every channel's bits in one call (search). */
  async channelBitsMany(
    userId: string,
    serverId: string,
    channelIds: readonly string[],
  ): Promise<Map<string, bigint>> {
    if (channelIds.length === 0) return new Map();
    const { channels } = await this.permissions.channelPermissions(
      { userId, serverId, channelIds: [...channelIds] },
      this.options,
    );
    return new Map(channels.map((c) => [c.channelId, BigInt(c.permissions || "0")]));
  }

  /** Members hold some server-level bits (their @everyone role at least); non-members none. */
  async isMember(userId: string, serverId: string): Promise<boolean> {
    const { permissions } = await this.permissions.checkPermissions(
      { userId, serverId, channelId: "", required: "0" },
      this.options,
    );
    return BigInt(permissions || "0") !== 0n;
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
