import { TwoFactorService as TwoFactorServiceDesc } from "@beep/proto/gen/beep/users/v1/two_factor_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { CallerAuthenticator } from "./caller-authenticator.ts";
import type { TwoFactorService } from "./two-factor.service.ts";

/** The Connect implementation of `beep.users.v1.TwoFactorService`: translates and delegates. */
export function twoFactorRoutes(
  service: TwoFactorService,
  callers: CallerAuthenticator,
): ServiceImpl<typeof TwoFactorServiceDesc> {
  const caller = async (context: Parameters<CallerAuthenticator["authenticate"]>[0]) =>
    (await callers.authenticate(context)).userId;
  return {
    async beginTotpEnrolment(_request, context) {
      return service.beginEnrolment(await caller(context));
    },
    async confirmTotpEnrolment(request, context) {
      return { recoveryCodes: await service.confirmEnrolment(await caller(context), request.code) };
    },
    async disableTotp(request, context) {
      return service.disable(await caller(context), request.code);
    },
    async regenerateRecoveryCodes(request, context) {
      return { recoveryCodes: await service.regenerateRecoveryCodes(await caller(context), request.code) };
    },
    async getTwoFactorStatus(_request, context) {
      return service.status(await caller(context));
    },
    completeSignIn(request) {
      return service.completeSignIn(request);
    },
  };
}

export { TwoFactorServiceDesc };
