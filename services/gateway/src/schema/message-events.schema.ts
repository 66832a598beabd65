import type { SchemaModule } from "./schema-module.ts";

/**
 * Stream events of messages, pins, reactions, typing and read states (realtime contract), members of the
 * `StreamEvent` union. Routes: services/gateway/src/realtime/routes/messages.routes.ts. Split in two
 * because MessageCreated/MessageUpdated need the messages slice's `Message` type: register
 * {@link messageBodyEventsSchema} together with it.
 */
const typeDefs = /* GraphQL */ `
  "A message was deleted; sent to the members who may view its channel."
  type MessageDeleted {
    "The server."
    serverId: ID!
    "The channel."
    channelId: ID!
    "The deleted message."
    messageId: ID!
  }

  "A message was pinned; sent to the members who may view its channel."
  type MessagePinned {
    "The server."
    serverId: ID!
    "The channel."
    channelId: ID!
    "The pinned message."
    messageId: ID!
    "Who pinned it."
    userId: ID!
  }

  "A message was unpinned; sent to the members who may view its channel."
  type MessageUnpinned {
    "The server."
    serverId: ID!
    "The channel."
    channelId: ID!
    "The unpinned message."
    messageId: ID!
    "Who unpinned it."
    userId: ID!
  }

  "Someone reacted to a message; sent to the members who may view its channel."
  type ReactionAdded {
    "The server."
    serverId: ID!
    "The channel."
    channelId: ID!
    "The message."
    messageId: ID!
    "The emoji: a Unicode emoji or a custom emoji's id."
    emoji: String!
    "Who reacted."
    userId: ID!
  }

  "Someone took back a reaction; sent to the members who may view its channel."
  type ReactionRemoved {
    "The server."
    serverId: ID!
    "The channel."
    channelId: ID!
    "The message."
    messageId: ID!
    "The emoji: a Unicode emoji or a custom emoji's id."
    emoji: String!
    "Whose reaction it was."
    userId: ID!
  }

  """
  Someone is typing in a channel; sent to the members who may view it. Ephemeral: never replayed, and its seq is
  that of the last durable event.
  """
  type TypingStarted {
    "The server."
    serverId: ID!
    "The channel."
    channelId: ID!
    "Who is typing."
    userId: ID!
    "When to stop showing the indicator unless another TypingStarted arrives."
    expiresAt: DateTime!
  }

  "The viewer's read position in a channel moved (on any of their devices); sent to the viewer only."
  type ReadStateUpdated {
    "The viewer."
    userId: ID!
    "The server."
    serverId: ID!
    "The channel."
    channelId: ID!
    "The last message read; null when none."
    lastReadMessageId: ID
    "Mentions of the viewer after that message."
    mentionCount: Int!
  }

  """
  Messages were removed in bulk (a ban that deletes the banned user's recent messages); sent to the members who may
  view the channel, once per channel.
  """
  type MessagesPurged {
    "The server."
    serverId: ID!
    "The channel the messages were in."
    channelId: ID!
    "Whose messages they were."
    userId: ID!
    "The removed messages, oldest first."
    messageIds: [ID!]!
  }

  extend union StreamEvent =
    | MessageDeleted
    | MessagesPurged
    | MessagePinned
    | MessageUnpinned
    | ReactionAdded
    | ReactionRemoved
    | TypingStarted
    | ReadStateUpdated
`;

/** Message stream events that need no other slice. */
export const messageEventsSchema: SchemaModule = { typeDefs, resolvers: {} };

const bodyTypeDefs = /* GraphQL */ `
  "A message was sent; sent to the members who may view its channel."
  type MessageCreated {
    "The message."
    message: Message!
  }

  "A message was edited (or its embeds arrived); sent to the members who may view its channel."
  type MessageUpdated {
    "The message as it is now."
    message: Message!
  }

  extend union StreamEvent = MessageCreated | MessageUpdated
`;

/** MessageCreated and MessageUpdated: need the messages slice's `Message` type (register with it). */
export const messageBodyEventsSchema: SchemaModule = { typeDefs: bodyTypeDefs, resolvers: {} };

const threadTypeDefs = /* GraphQL */ `
  "A thread was started in a channel; sent to the members who may view the channel."
  type ThreadCreated {
    "The server."
    serverId: ID!
    "The parent channel."
    channelId: ID!
    "The thread."
    thread: Thread!
  }

  "A thread changed (a message was sent in it: its count and last activity); sent to the members who may view the channel."
  type ThreadUpdated {
    "The server."
    serverId: ID!
    "The parent channel."
    channelId: ID!
    "The thread as it is now."
    thread: Thread!
  }

  extend union StreamEvent = ThreadCreated | ThreadUpdated
`;

/** ThreadCreated and ThreadUpdated: need the threads slice's `Thread` type (register with it). */
export const threadEventsSchema: SchemaModule = { typeDefs: threadTypeDefs, resolvers: {} };
