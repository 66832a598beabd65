import { SsoService } from "@beep/proto/gen/beep/users/v1/sso_pb.ts";
import type { GatewayContext } from "../gateway.context.ts";
import type { SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  "An OpenID Connect provider users may sign in with (AUTH-5)."
  type SsoProvider {
    "Configured name, e.g. keycloak."
    name: String!
    "Path on this deployment that starts a sign-in; append ?redirect=<same-origin path>."
    startPath: String!
  }

  type Query {
    "The single sign-on providers of this deployment."
    ssoProviders: [SsoProvider!]!
  }

  "Input of linkOidcIdentity."
  input LinkOidcIdentityInput {
    "The linkToken delivered in the callback's URL fragment; single use, valid 10 minutes."
    linkToken: String!
    "The password of the existing Beep account with the provider's email."
    password: String!
  }

  type Mutation {
    "Links a provider identity to the existing account with its email after proving that account's password, then signs in (AUTH-5). Errors: UNAUTHENTICATED."
    linkOidcIdentity(input: LinkOidcIdentityInput!): SessionPayload!
  }
`;

const sso = (context: GatewayContext) => context.clients.client(SsoService);

/** Single sign-on: the provider list and linking an identity to an existing account (AUTH-5). */
export const ssoSchema: SchemaModule = {
  typeDefs,
  resolvers: {
    Query: {
      ssoProviders: async (_root: unknown, _args: unknown, context: GatewayContext) =>
        (await sso(context).listProviders({})).providers.map(({ name }) => ({
          name,
          startPath: `/auth/oidc/${name}/start`,
        })),
    },
    Mutation: {
      linkOidcIdentity: (
        _root: unknown,
        { input }: { input: { linkToken: string; password: string } },
        context: GatewayContext,
      ) => sso(context).linkOidcIdentity({ ...input, device: context.device, ip: context.ip }),
    },
  },
};
