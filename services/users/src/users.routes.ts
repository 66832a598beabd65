import { UsersService as UsersServiceDesc } from "@beep/proto/gen/beep/users/v1/users_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { CallerAuthenticator } from "./caller-authenticator.ts";
import type { UsersService } from "./users.service.ts";

/** The Connect implementation of `beep.users.v1.UsersService`: translates and delegates, nothing more. */
export function usersRoutes(
  service: UsersService,
  callers: CallerAuthenticator,
): ServiceImpl<typeof UsersServiceDesc> {
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
    async getMe(_request, context) {
      return service.me((await callers.authenticate(context)).userId);
    },
    async updateProfile(request, context) {
      return service.updateProfile((await callers.authenticate(context)).userId, request);
    },
    getJwks() {
      return { jwksJson: JSON.stringify(service.publicJwks()) };
    },
  };
}

export { UsersServiceDesc };
