import { parseBearer } from "@beep/auth";
import { UsersService as UsersServiceDesc } from "@beep/proto/gen/beep/users/v1/users_pb.ts";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { UsersService } from "./users.service.ts";

function bearer(context: HandlerContext): string | undefined {
  return parseBearer(context.requestHeader.get("authorization"));
}

/** The Connect implementation of `beep.users.v1.UsersService`: translates and delegates, nothing more. */
export function usersRoutes(service: UsersService): ServiceImpl<typeof UsersServiceDesc> {
  return {
    async signUp(request) {
      return { user: await service.signUp(request) };
    },
    signIn(request) {
      return service.signIn(request);
    },
    refreshSession(request) {
      return service.refreshSession(request.refreshToken);
    },
    getMe(_request, context) {
      return service.me(bearer(context));
    },
    updateProfile(request, context) {
      return service.updateProfile(bearer(context), request);
    },
    getJwks() {
      return { jwksJson: JSON.stringify(service.publicJwks()) };
    },
  };
}

export { UsersServiceDesc };
