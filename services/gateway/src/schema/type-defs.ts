/** The public GraphQL schema (SDL); `schema.graphql` at the service root is printed from it and committed. */
export const typeDefs = /* GraphQL */ `
  """
  ISO-8601 date and time, always UTC (e.g. 2026-11-23T15:45:00.000Z).
  """
  scalar DateTime

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

  "Read operations."
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

  "Write operations; each takes one input and returns a payload."
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

  "Real-time streams over graphql-ws."
  type Subscription {
    "Events about the signed-in user, as they happen. Requires authentication in connection_init."
    myEvents: MyEvent!
  }
`;
