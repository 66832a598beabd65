import type { CallerAuthenticator } from "@beep/auth";
import { InAppInvitesService as InAppInvitesServiceDesc } from "@beep/proto/gen/beep/servers/v1/in_app_invites_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { InAppInvitesService } from "./in-app-invites.service.ts";

/** The Connect implementation of `beep.servers.v1.InAppInvitesService`: authenticates, translates and delegates. */
export function inAppInvitesRoutes(
  invites: InAppInvitesService,
  callers: CallerAuthenticator,
): ServiceImpl<typeof InAppInvitesServiceDesc> {
  const as = (context: Parameters<CallerAuthenticator["authenticate"]>[0]) => callers.authenticate(context);
  return {
    async sendServerInvite(request, context) {
      return { invite: await invites.send(await as(context), request.serverId, request.userId) };
    },
    async listMyInvites(_request, context) {
      return { invites: await invites.listMine(await as(context)) };
    },
    async declineInvite(request, context) {
      return { code: await invites.decline(await as(context), request.code) };
    },
  };
}

export { InAppInvitesServiceDesc };
