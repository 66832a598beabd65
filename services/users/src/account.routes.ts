import { AccountService as AccountServiceDesc } from "@beep/proto/gen/beep/users/v1/account_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { AccountService } from "./account.service.ts";
import type { CallerAuthenticator } from "./caller-authenticator.ts";

/** The Connect implementation of `beep.users.v1.AccountService`: authenticates, translates, delegates. */
export function accountRoutes(
  service: AccountService,
  callers: CallerAuthenticator,
): ServiceImpl<typeof AccountServiceDesc> {
  return {
    async changeUsername(request, context) {
      return service.changeUsername(await callers.authenticate(context), request.username);
    },
    async changePassword(request, context) {
      return service.changePassword(await callers.authenticate(context), request);
    },
    async setCustomStatus(request, context) {
      return service.setCustomStatus(await callers.authenticate(context), request);
    },
    async clearCustomStatus(_request, context) {
      return service.clearCustomStatus(await callers.authenticate(context));
    },
    async uploadPicture(request, context) {
      return service.uploadPicture(await callers.authenticate(context), request);
    },
    async removePicture(request, context) {
      return service.removePicture(await callers.authenticate(context), request);
    },
    async getPicture(request, context) {
      // Public to any signed-in user: authenticate, but read whoever is named.
      await callers.authenticate(context);
      return service.getPicture(request);
    },
    async getProfileExtras(request, context) {
      await callers.authenticate(context);
      return service.profileExtras(request.userId);
    },
    async deleteAccount(request, context) {
      return service.deleteAccount(await callers.authenticate(context), request);
    },
    async exportAccount(_request, context) {
      return service.exportAccount(await callers.authenticate(context));
    },
  };
}

export { AccountServiceDesc };
