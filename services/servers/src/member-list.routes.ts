import type { CallerAuthenticator } from "@beep/auth";
import { MemberListService as MemberListServiceDesc } from "@beep/proto/gen/beep/servers/v1/member_list_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { MemberListService } from "./member-list.service.ts";

/** The Connect implementation of `beep.servers.v1.MemberListService`: authenticates, translates and delegates. */
export function memberListRoutes(
  members: MemberListService,
  callers: CallerAuthenticator,
): ServiceImpl<typeof MemberListServiceDesc> {
  return {
    async listServerMembers(request, context) {
      return members.serverMembers(await callers.authenticate(context), request.serverId, request);
    },
    async listChannelMembers(request, context) {
      return members.channelMembers(await callers.authenticate(context), request.channelId, request);
    },
  };
}

export { MemberListServiceDesc };
