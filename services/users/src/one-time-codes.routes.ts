import {
  CodeChannel,
  OneTimeCodeService as OneTimeCodeServiceDesc,
} from "@beep/proto/gen/beep/users/v1/one_time_codes_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { SignInCodeService } from "./sign-in-code.service.ts";

const CHANNELS = { [CodeChannel.EMAIL]: "email", [CodeChannel.SMS]: "sms" } as const;

/** The Connect implementation of `beep.users.v1.OneTimeCodeService`: translates and delegates. */
export function oneTimeCodeRoutes(service: SignInCodeService): ServiceImpl<typeof OneTimeCodeServiceDesc> {
  return {
    requestSignInCode(request) {
      const channel = request.channel === CodeChannel.UNSPECIFIED ? undefined : CHANNELS[request.channel];
      return service.request({ email: request.email, phone: request.phone, channel, ip: request.ip });
    },
    signInWithCode(request) {
      return service.signIn(request);
    },
  };
}

export { OneTimeCodeServiceDesc };
