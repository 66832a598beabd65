import { InAppInvitesService } from "@beep/proto/gen/beep/servers/v1/in_app_invites_pb.ts";
import type { GatewayContext } from "../gateway.context.ts";
import { asViewer, type SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  "An invite sent to one user in the app (SRV-3); accept it with joinServerByInvite and its code."
  type InAppInvite {
    "The code to pass to joinServerByInvite."
    code: String!
    "The server it opens."
    serverId: ID!
    "The server's name."
    serverName: String!
    "Who sent it."
    inviterId: ID!
    "Who it is for."
    recipientId: ID!
    "When it stops working."
    expiresAt: DateTime
    "When it was sent."
    createdAt: DateTime!
  }

  type Query {
    "The viewer's pending in-app invites that can still be used, newest first. Errors: UNAUTHENTICATED."
    myInvites: [InAppInvite!]!
  }

  "Input of sendServerInvite."
  input SendServerInviteInput {
    "The server."
    serverId: ID!
    "The user to invite."
    userId: ID!
  }

  "Result of sendServerInvite."
  type SendServerInvitePayload {
    "The invite sent."
    invite: InAppInvite!
  }

  "Input of declineInvite."
  input DeclineInviteInput {
    "The code of one of the viewer's in-app invites."
    code: String!
  }

  "Result of declineInvite."
  type DeclineInvitePayload {
    "The declined code, now revoked."
    code: String!
  }

  type Mutation {
    "Sends a user a one-use, one-week invite (createInvite's rules and hourly budget); they get an invite.received event; sending again replaces the pending one. Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, CONFLICT (already a member), BAD_USER_INPUT, RATE_LIMITED."
    sendServerInvite(input: SendServerInviteInput!): SendServerInvitePayload!
    "Declines one of the viewer's in-app invites: it is removed and its code revoked. Errors: UNAUTHENTICATED, NOT_FOUND."
    declineInvite(input: DeclineInviteInput!): DeclineInvitePayload!
  }
`;

type Ctx = GatewayContext;
const rpc = (context: Ctx) => context.clients.client(InAppInvitesService);
const nullable = (invite: { expiresAt: string } | undefined) =>
  invite && { ...invite, expiresAt: invite.expiresAt || null };

/** In-app invites (SRV-3). */
export const inAppInvitesSchema: SchemaModule = {
  typeDefs,
  resolvers: {
    Query: {
      myInvites: async (_root: unknown, _args: unknown, context: Ctx) =>
        (await rpc(context).listMyInvites({}, asViewer(context))).invites.map(nullable),
    },
    Mutation: {
      sendServerInvite: async (
        _root: unknown,
        { input }: { input: { serverId: string; userId: string } },
        context: Ctx,
      ) => ({ invite: nullable((await rpc(context).sendServerInvite(input, asViewer(context))).invite) }),
      declineInvite: (_root: unknown, { input }: { input: { code: string } }, context: Ctx) =>
        rpc(context).declineInvite(input, asViewer(context)),
    },
  },
};
