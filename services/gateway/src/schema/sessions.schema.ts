import { SessionsService } from "@beep/proto/gen/beep/users/v1/sessions_pb.ts";
import type { GatewayContext } from "../gateway.context.ts";
import { asViewer, type SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  """
  A signed-in device of the viewer (one refresh-token family).
  """
  type Session {
    "Opaque id."
    id: ID!
    "User agent given at sign-in."
    device: String!
    "Client address at sign-in."
    ip: String!
    "When the session started."
    createdAt: DateTime!
    "When its tokens were last refreshed."
    lastUsedAt: DateTime!
    "True for the session of the token making this request."
    current: Boolean!
  }

  type Query {
    "The viewer's live sessions, newest first (AUTH-4). Errors: UNAUTHENTICATED."
    sessions: [Session!]!
  }

  "Input of revokeSession."
  input RevokeSessionInput {
    "One of the viewer's sessions."
    sessionId: ID!
  }

  "Result of revokeSession."
  type RevokeSessionPayload {
    "The session that ended."
    sessionId: ID!
  }

  "Result of signOut."
  type SignOutPayload {
    "The session that ended (the current one)."
    sessionId: ID!
  }

  "Input of signOutEverywhere."
  input SignOutEverywhereInput {
    "Keep the session of this request's token; default false."
    keepCurrent: Boolean
  }

  "Result of signOutEverywhere."
  type SignOutEverywherePayload {
    "How many sessions ended."
    revokedCount: Int!
  }

  type Mutation {
    "Ends one of the viewer's sessions; its sockets close with 4401. Errors: UNAUTHENTICATED, NOT_FOUND."
    revokeSession(input: RevokeSessionInput!): RevokeSessionPayload!
    "Ends the current session; its tokens stop working. Errors: UNAUTHENTICATED."
    signOut: SignOutPayload!
    "Ends all the viewer's sessions, optionally keeping this one. Errors: UNAUTHENTICATED."
    signOutEverywhere(input: SignOutEverywhereInput!): SignOutEverywherePayload!
  }
`;

const sessions = (context: GatewayContext) => context.clients.client(SessionsService);

/** The viewer's sessions: list, revoke, sign out (AUTH-4). */
export const sessionsSchema: SchemaModule = {
  typeDefs,
  resolvers: {
    Query: {
      sessions: async (_root: unknown, _args: unknown, context: GatewayContext) =>
        (await sessions(context).listSessions({}, asViewer(context))).sessions,
    },
    Mutation: {
      revokeSession: (_root: unknown, { input }: { input: { sessionId: string } }, context: GatewayContext) =>
        sessions(context).revokeSession(input, asViewer(context)),
      signOut: (_root: unknown, _args: unknown, context: GatewayContext) =>
        sessions(context).signOut({}, asViewer(context)),
      signOutEverywhere: (
        _root: unknown,
        { input }: { input: { keepCurrent?: boolean | null } },
        context: GatewayContext,
      ) =>
        sessions(context).signOutEverywhere({ keepCurrent: input.keepCurrent ?? false }, asViewer(context)),
    },
  },
};
