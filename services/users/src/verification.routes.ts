import { VerificationService as VerificationServiceDesc } from "@beep/proto/gen/beep/users/v1/verification_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { CallerAuthenticator } from "./caller-authenticator.ts";
import type { EmailVerificationService } from "./verification.service.ts";

/** The Connect implementation of `beep.users.v1.VerificationService`: translates and delegates. */
export function verificationRoutes(
  service: EmailVerificationService,
  callers: CallerAuthenticator,
): ServiceImpl<typeof VerificationServiceDesc> {
  return {
    verifyEmail(request) {
      return service.verifyEmail(request);
    },
    resendVerification(request) {
      return service.resend(request.email);
    },
    async getEmailVerification(_request, context) {
      return service.status((await callers.authenticate(context)).userId);
    },
  };
}

export { VerificationServiceDesc };
