import { LdapService } from "@beep/proto/gen/beep/users/v1/ldap_pb.ts";
import type { GatewayContext } from "../gateway.context.ts";
import type { SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  "Input of signInWithLdap."
  input SignInWithLdapInput {
    "The directory username (for example the university login)."
    username: String!
    "The directory password; never empty."
    password: String!
  }

  type Mutation {
    """
    Signs in against the configured LDAP directory (AUTH-6); the first success creates the Beep account.
    Errors: UNAUTHENTICATED (same for unknown user and wrong password), CONFLICT (field email: a local
    account already uses the directory email), FORBIDDEN (LDAP disabled or no email), UNAVAILABLE.
    """
    signInWithLdap(input: SignInWithLdapInput!): SessionPayload!
  }
`;

/** LDAP sign-in (AUTH-6); reuses SessionPayload from the identity slice. */
export const ldapSchema: SchemaModule = {
  typeDefs,
  resolvers: {
    Mutation: {
      signInWithLdap: (
        _root: unknown,
        { input }: { input: { username: string; password: string } },
        context: GatewayContext,
      ) =>
        context.clients
          .client(LdapService)
          .signInWithLdap({ ...input, device: context.device, ip: context.ip }),
    },
  },
};
