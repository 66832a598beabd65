import { EmailChangeService as EmailChangeServiceDesc } from "@beep/proto/gen/beep/users/v1/email_change_pb.ts";
import { PasswordResetService as PasswordResetServiceDesc } from "@beep/proto/gen/beep/users/v1/password_reset_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { CallerAuthenticator } from "./caller-authenticator.ts";
import type { EmailChangeService } from "./email-change.service.ts";
import type { PasswordResetService } from "./password-reset.service.ts";

/** The Connect implementation of `beep.users.v1.PasswordResetService` (no caller: the user lost access). */
export function passwordResetRoutes(
  service: PasswordResetService,
): ServiceImpl<typeof PasswordResetServiceDesc> {
  return {
    requestPasswordReset(request) {
      return service.request({ email: request.email });
    },
    resetPassword(request) {
      return service.reset(request);
    },
    completePasswordReset(request) {
      return service.complete(request);
    },
  };
}

/** The Connect implementation of `beep.users.v1.EmailChangeService`: authenticates, translates, delegates. */
export function emailChangeRoutes(
  service: EmailChangeService,
  callers: CallerAuthenticator,
): ServiceImpl<typeof EmailChangeServiceDesc> {
  return {
    async requestEmailChange(request, context) {
      return service.request(await callers.authenticate(context), request);
    },
    async confirmEmailChange(request, context) {
      return service.confirm(await callers.authenticate(context), request);
    },
  };
}

export { EmailChangeServiceDesc, PasswordResetServiceDesc };
