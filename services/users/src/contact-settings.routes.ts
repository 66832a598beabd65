import { ContactSettingsService as ContactSettingsServiceDesc } from "@beep/proto/gen/beep/users/v1/contact_settings_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { CallerAuthenticator } from "./caller-authenticator.ts";
import type { ContactSettingsService } from "./contact-settings.service.ts";

/** The Connect implementation of `beep.users.v1.ContactSettingsService`: translates and delegates. */
export function contactSettingsRoutes(
  service: ContactSettingsService,
  callers: CallerAuthenticator,
): ServiceImpl<typeof ContactSettingsServiceDesc> {
  return {
    async updateContactSettings(request, context) {
      return service.update((await callers.authenticate(context)).userId, request);
    },
    async getContactSettings(_request, context) {
      return service.get((await callers.authenticate(context)).userId);
    },
  };
}

export { ContactSettingsServiceDesc };
