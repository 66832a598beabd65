import { LdapService as LdapServiceDesc } from "@beep/proto/gen/beep/users/v1/ldap_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { LdapService } from "./ldap.service.ts";

/** The Connect implementation of `beep.users.v1.LdapService`: translates and delegates. */
export function ldapRoutes(service: LdapService): ServiceImpl<typeof LdapServiceDesc> {
  return {
    signInWithLdap(request) {
      return service.signInWithLdap(request);
    },
  };
}

export { LdapServiceDesc };
