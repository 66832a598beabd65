import { SessionsService as SessionsServiceDesc } from "@beep/proto/gen/beep/users/v1/sessions_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { CallerAuthenticator } from "./caller-authenticator.ts";
import type { SessionsService } from "./sessions.service.ts";

/** The Connect implementation of `beep.users.v1.SessionsService`: translates and delegates. */
export function sessionsRoutes(
  service: SessionsService,
  callers: CallerAuthenticator,
): ServiceImpl<typeof SessionsServiceDesc> {
  return {
    async listSessions(_request, context) {
      return { sessions: await service.list(await callers.authenticate(context)) };
    },
    async revokeSession(request, context) {
      const caller = await callers.authenticate(context);
      return { sessionId: await service.revoke(caller, request.sessionId) };
    },
    async signOut(_request, context) {
      return { sessionId: await service.signOut(await callers.authenticate(context)) };
    },
    async signOutEverywhere(request, context) {
      const caller = await callers.authenticate(context);
      return { revokedCount: await service.signOutEverywhere(caller, request.keepCurrent) };
    },
    async checkSession(_request, context) {
      const { userId, sessionId } = await callers.authenticate(context);
      return { userId, sessionId };
    },
  };
}

export { SessionsServiceDesc };
