import { SsoService as SsoServiceDesc } from "@beep/proto/gen/beep/users/v1/sso_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { SsoService } from "./sso.service.ts";

/** The Connect implementation of `beep.users.v1.SsoService`: translates and delegates. */
export function ssoRoutes(service: SsoService): ServiceImpl<typeof SsoServiceDesc> {
  return {
    listProviders() {
      return { providers: service.listProviders() };
    },
    beginOidcSignIn(request) {
      return service.begin(request);
    },
    async completeOidcSignIn(request) {
      const outcome = await service.complete(request);
      return outcome.kind === "session"
        ? { result: { case: "session", value: outcome.session }, redirectAfter: outcome.redirectAfter }
        : { result: { case: "linkToken", value: outcome.linkToken }, redirectAfter: outcome.redirectAfter };
    },
    linkOidcIdentity(request) {
      return service.link(request);
    },
  };
}

export { SsoServiceDesc };
