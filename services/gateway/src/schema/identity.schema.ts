import { UsersService } from "@beep/proto/gen/beep/users/v1/users_pb.ts";
import type { GatewayContext } from "../gateway.context.ts";
import type { UserStreamEvent } from "../user-event-hub.ts";
import { asViewer, requireViewer, type SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  """
  A Beep account as its owner sees it.
  """
  type User {
    "Opaque id (64-bit snowflake as a decimal string)."
    id: ID!
    "Unique handle, case-insensitive."
    username: String!
    "Sign-in address; only ever shown to its owner."
    email: String!
    "Given name."
    firstName: String!
    "Family name."
    lastName: String!
    "Name shown to others; empty means the username is shown."
    displayName: String!
    "Short self-description."
    bio: String!
    "When the account was created."
    createdAt: DateTime!
    "When the profile last changed."
    updatedAt: DateTime!
  }

  type Query {
    "The signed-in user. Errors: UNAUTHENTICATED."
    me: User!
  }

  "Input of signUp."
  input SignUpInput {
    "A valid address; unique."
    email: String!
    "2–32 letters, digits, _ or .; unique, case-insensitive."
    username: String!
    "8–1024 characters, any Unicode; not a common password."
    password: String!
    "Given name, 1–64 characters."
    firstName: String!
    "Family name, 1–64 characters."
    lastName: String!
  }

  "Result of signUp."
  type SignUpPayload {
    "The new account."
    user: User!
  }

  "Input of signIn."
  input SignInInput {
    "The account's email, any case."
    email: String!
    "The account's password."
    password: String!
  }

  "Tokens of a session."
  type SessionPayload {
    "Short-lived EdDSA JWT for the Authorization header."
    accessToken: String!
    "When the access token expires."
    accessTokenExpiresAt: DateTime!
    "Opaque, single-use token for refreshSession; rotated on every use."
    refreshToken: String!
    "When the session ends unless refreshed earlier."
    refreshTokenExpiresAt: DateTime!
    "The signed-in user."
    user: User!
  }

  "Input of refreshSession."
  input RefreshSessionInput {
    "The latest refresh token; an already used one revokes the session."
    refreshToken: String!
  }

  "Input of updateProfile: fields left out stay unchanged."
  input UpdateProfileInput {
    "Up to 64 characters; empty clears it."
    displayName: String
    "Given name, 1–64 characters."
    firstName: String
    "Family name, 1–64 characters."
    lastName: String
    "Up to 190 characters."
    bio: String
  }

  "Result of updateProfile."
  type UpdateProfilePayload {
    "The updated account."
    user: User!
  }

  type Mutation {
    "Creates an account (AUTH-1). Errors: BAD_USER_INPUT (field), CONFLICT (field)."
    signUp(input: SignUpInput!): SignUpPayload!
    "Signs in with email and password (AUTH-2). Errors: UNAUTHENTICATED, same for any wrong pair."
    signIn(input: SignInInput!): SessionPayload!
    "Rotates the refresh token and issues a new access token. Errors: UNAUTHENTICATED."
    refreshSession(input: RefreshSessionInput!): SessionPayload!
    "Changes the signed-in user's profile. Errors: UNAUTHENTICATED, BAD_USER_INPUT (field)."
    updateProfile(input: UpdateProfileInput!): UpdateProfilePayload!
  }

  "The signed-in user's profile changed (on any device)."
  type UserUpdated {
    "The profile after the change."
    user: User!
  }

  "An event of the signed-in user's own stream."
  union MyEvent = UserUpdated

  type Subscription {
    "Events about the signed-in user, as they happen. Requires authentication in connection_init."
    myEvents: MyEvent!
  }
`;

type Args<T> = { input: T };

const users = (context: GatewayContext) => context.clients.client(UsersService);

/** Accounts, sign-in, tokens, profile and the user's own event stream (AUTH-1, AUTH-2, AUTH-8). */
export const identitySchema: SchemaModule = {
  typeDefs,
  resolvers: {
    Query: {
      me: (_root: unknown, _args: unknown, context: GatewayContext) =>
        users(context).getMe({}, asViewer(context)),
    },
    Mutation: {
      signUp: (
        _root: unknown,
        {
          input,
        }: Args<{ email: string; username: string; password: string; firstName: string; lastName: string }>,
        context: GatewayContext,
      ) => users(context).signUp(input),
      signIn: (
        _root: unknown,
        { input }: Args<{ email: string; password: string }>,
        context: GatewayContext,
      ) => users(context).signIn({ ...input, device: context.device, ip: context.ip }),
      refreshSession: (_root: unknown, { input }: Args<{ refreshToken: string }>, context: GatewayContext) =>
        users(context).refreshSession(input),
      updateProfile: async (
        _root: unknown,
        { input }: Args<Record<string, string | null | undefined>>,
        context: GatewayContext,
      ) => {
        // GraphQL null means "leave unchanged" here, like a missing field.
        const changes = Object.fromEntries(
          Object.entries(input).filter(([, value]) => value !== null && value !== undefined),
        );
        return { user: await users(context).updateProfile(changes, asViewer(context)) };
      },
    },
    Subscription: {
      myEvents: {
        subscribe: (_root: unknown, _args: unknown, context: GatewayContext) =>
          context.hub.open(requireViewer(context).userId),
        resolve: (event: UserStreamEvent) => event,
      },
    },
    MyEvent: {
      __resolveType: (event: UserStreamEvent) => event.__typename,
    },
  },
};
