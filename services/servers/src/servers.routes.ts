import type { CallerAuthenticator } from "@beep/auth";
import { ServersService as ServersServiceDesc } from "@beep/proto/gen/beep/servers/v1/servers_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { ChannelsService } from "./channels.service.ts";
import type { RolesService } from "./roles.service.ts";
import type { ServersService } from "./servers.service.ts";

/** The use cases behind `beep.servers.v1.ServersService`. */
export interface ServersUseCases {
  servers: ServersService;
  channels: ChannelsService;
  roles: RolesService;
}

/** The Connect implementation of `beep.servers.v1.ServersService`: authenticates, translates and delegates. */
export function serversRoutes(
  { servers, channels, roles }: ServersUseCases,
  callers: CallerAuthenticator,
): ServiceImpl<typeof ServersServiceDesc> {
  const as = (context: Parameters<CallerAuthenticator["authenticate"]>[0]) => callers.authenticate(context);
  return {
    async createServer(request, context) {
      return { server: await servers.create(await as(context), request) };
    },
    async getServer(request, context) {
      return { server: await servers.get(await as(context), request.serverId) };
    },
    async listMyServers(_request, context) {
      return { servers: await servers.listMine(await as(context)) };
    },
    async updateServer(request, context) {
      const { serverId, ...patch } = request;
      return { server: await servers.update(await as(context), serverId, patch) };
    },
    async deleteServer(request, context) {
      return { serverId: await servers.delete(await as(context), request.serverId) };
    },
    async transferOwnership(request, context) {
      return { server: await servers.transferOwnership(await as(context), request.serverId, request.userId) };
    },
    async joinServer(request, context) {
      return { server: await servers.join(await as(context), request.serverId) };
    },
    async leaveServer(request, context) {
      return { serverId: await servers.leave(await as(context), request.serverId) };
    },
    async listMembers(request, context) {
      return { members: await servers.listMembers(await as(context), request.serverId) };
    },
    async kickMember(request, context) {
      return {
        userId: await servers.kick(await as(context), request.serverId, request.userId, request.reason),
      };
    },
    async createInvite(request, context) {
      return { invite: await servers.createInvite(await as(context), request.serverId, request) };
    },
    async revokeInvite(request, context) {
      return { invite: await servers.revokeInvite(await as(context), request.serverId, request.code) };
    },
    async listInvites(request, context) {
      return { invites: await servers.listInvites(await as(context), request.serverId) };
    },
    async joinByInvite(request, context) {
      return { server: await servers.joinByInvite(await as(context), request.code) };
    },
    async createChannel(request, context) {
      return { channel: await channels.create(await as(context), request.serverId, request) };
    },
    async updateChannel(request, context) {
      const { channelId, ...patch } = request;
      return { channel: await channels.update(await as(context), channelId, patch) };
    },
    async deleteChannel(request, context) {
      return { channelIds: await channels.delete(await as(context), request.channelId) };
    },
    async listChannels(request, context) {
      return { channels: await channels.list(await as(context), request.serverId) };
    },
    async listRoles(request, context) {
      return { roles: await roles.list(await as(context), request.serverId) };
    },
    async createRole(request, context) {
      return { role: await roles.create(await as(context), request.serverId, request) };
    },
    async updateRole(request, context) {
      const { serverId, roleId, ...patch } = request;
      return { role: await roles.update(await as(context), serverId, roleId, patch) };
    },
    async deleteRole(request, context) {
      return { roleId: await roles.delete(await as(context), request.serverId, request.roleId) };
    },
    async assignRole(request, context) {
      return {
        member: await roles.assign(await as(context), request.serverId, request.roleId, request.userId),
      };
    },
    async removeRole(request, context) {
      return {
        member: await roles.remove(await as(context), request.serverId, request.roleId, request.userId),
      };
    },
    async setChannelOverwrite(request, context) {
      return { channel: await channels.setOverwrite(await as(context), request.channelId, request) };
    },
    async deleteChannelOverwrite(request, context) {
      return { channel: await channels.deleteOverwrite(await as(context), request.channelId, request) };
    },
    async syncChannelPermissions(request, context) {
      return { channel: await channels.syncPermissions(await as(context), request.channelId) };
    },
    async getMyPermissions(request, context) {
      const bits = await channels.myPermissions(await as(context), request.serverId, request.channelId);
      return { permissions: String(bits) };
    },
  };
}

export { ServersServiceDesc };
