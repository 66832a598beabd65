import type { CallerAuthenticator } from "@beep/auth";
import { ModerationService as ModerationServiceDesc } from "@beep/proto/gen/beep/servers/v1/moderation_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { ModerationService } from "./moderation.service.ts";

/** The Connect implementation of `beep.servers.v1.ModerationService`: authenticates, translates and delegates. */
export function moderationRoutes(
  moderation: ModerationService,
  callers: CallerAuthenticator,
): ServiceImpl<typeof ModerationServiceDesc> {
  const as = (context: Parameters<CallerAuthenticator["authenticate"]>[0]) => callers.authenticate(context);
  return {
    async banMember(request, context) {
      return { ban: await moderation.ban(await as(context), request.serverId, request.userId, request) };
    },
    async unbanMember(request, context) {
      const caller = await as(context);
      return { userId: await moderation.unban(caller, request.serverId, request.userId, request.reason) };
    },
    async listBans(request, context) {
      return { bans: await moderation.listBans(await as(context), request.serverId) };
    },
    async timeoutMember(request, context) {
      return moderation.timeout(await as(context), request.serverId, request.userId, request);
    },
    async clearTimeout(request, context) {
      return moderation.clearTimeout(await as(context), request.serverId, request.userId, request.reason);
    },
    async listAuditLog(request, context) {
      return moderation.listAuditLog(await as(context), request.serverId, request);
    },
  };
}

export { ModerationServiceDesc };
