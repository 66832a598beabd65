import type { SchemaModule } from "./schema-module.ts";

/**
 * Stream events of servers, channels, roles and members (realtime contract, issues 4 and 5), members of
 * the `StreamEvent` union. Routes: services/gateway/src/realtime/routes/servers.routes.ts; who receives
 * what: services/gateway/src/realtime/server-audience-index.ts.
 */
const typeDefs = /* GraphQL */ `
  "A server was created; sent to its members (its owner, at first)."
  type ServerCreated {
    "The server as created."
    server: Server!
  }

  "A server's name, description, visibility or owner changed; sent to its members."
  type ServerUpdated {
    "The server as it is now."
    server: Server!
  }

  "A server was deleted; sent to those who were its members. Drop everything of it."
  type ServerDeleted {
    "The deleted server."
    serverId: ID!
  }

  "A channel was created; sent to the members who may view it."
  type ChannelCreated {
    "The channel as created."
    channel: Channel!
  }

  """
  A channel changed (name, topic, position, folder or overwrites); sent to the members who may view it after the
  change. A member who can no longer view it receives nothing more of it.
  """
  type ChannelUpdated {
    "The channel as it is now."
    channel: Channel!
  }

  "A channel was deleted (a folder with its channels); sent to the members who could view it."
  type ChannelDeleted {
    "The server it belonged to."
    serverId: ID!
    "The channel deleted."
    channelId: ID!
    "Every channel deleted with it: the channel itself, and a folder's channels."
    deletedChannelIds: [ID!]!
  }

  "A role was created; sent to the server's members."
  type RoleCreated {
    "The role as created."
    role: Role!
  }

  "A role changed (name, colour, permissions or position); sent to the server's members."
  type RoleUpdated {
    "The role as it is now."
    role: Role!
  }

  "A role was deleted; sent to the server's members."
  type RoleDeleted {
    "The server it belonged to."
    serverId: ID!
    "The deleted role."
    roleId: ID!
  }

  "Someone joined a server; sent to its members."
  type MemberJoined {
    "The new member."
    member: Member!
  }

  "A member's roles or timeout changed; sent to the server's members."
  type MemberUpdated {
    "The member as they are now."
    member: Member!
  }

  "Why a member is no longer in a server."
  enum MemberLeftReason {
    "They left on their own."
    LEFT
    "A moderator kicked them."
    KICK
    "A moderator banned them."
    BAN
  }

  "Someone left a server or was removed; sent to its members and to the member themselves."
  type MemberLeft {
    "The server."
    serverId: ID!
    "Who is no longer a member."
    userId: ID!
    "Left, kicked or banned."
    reason: MemberLeftReason!
  }

  "The viewer was sent an invite to a server."
  type InviteReceived {
    "The server it opens."
    serverId: ID!
    "The invite."
    invite: Invite!
  }

  extend union StreamEvent =
    | ServerCreated
    | ServerUpdated
    | ServerDeleted
    | ChannelCreated
    | ChannelUpdated
    | ChannelDeleted
    | RoleCreated
    | RoleUpdated
    | RoleDeleted
    | MemberJoined
    | MemberUpdated
    | MemberLeft
    | InviteReceived
`;

/** The servers feature's stream events. */
export const serverEventsSchema: SchemaModule = { typeDefs, resolvers: {} };
