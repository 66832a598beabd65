import { ReactionsService } from "@beep/proto/gen/beep/messages/v1/reactions_pb.ts";
import type { GatewayContext } from "../gateway.context.ts";
import { loadBatched } from "./request-batch.ts";
import { asViewer, type SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  "One emoji on a message and how many reacted with it (MSG-9)."
  type Reaction {
    "A Unicode emoji."
    emoji: String!
    "How many users reacted with it."
    count: Int!
    "True when the viewer is one of them."
    me: Boolean!
  }

  extend type Message {
    """
    Reactions, in the order each emoji first appeared (loaded for a whole page at once). Empty on stream
    events (MessageCreated/MessageUpdated): follow ReactionAdded/ReactionRemoved there.
    """
    reactions: [Reaction!]!
  }

  "A page of the users who reacted with one emoji, by ascending user id."
  type ReactionUserPage {
    "User ids."
    userIds: [ID!]!
    "True when more users follow; pass the last id as after."
    hasMore: Boolean!
  }

  type Query {
    """
    Who reacted to a message with an emoji (VIEW_CHANNEL + READ_MESSAGE_HISTORY). first 1–100 (default 25);
    after is the last user id of the previous page. Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT.
    """
    reactionUsers(messageId: ID!, emoji: String!, first: Int, after: ID): ReactionUserPage!
  }

  "Input of addReaction and removeReaction."
  input ReactionInput {
    "The message."
    messageId: ID!
    "One Unicode emoji (one grapheme cluster, at most 32 bytes)."
    emoji: String!
  }

  "Result of addReaction and removeReaction."
  type ReactionPayload {
    "The message."
    messageId: ID!
    "Its reactions after the change."
    reactions: [Reaction!]!
  }

  type Mutation {
    """
    Reacts to a message (VIEW_CHANNEL + READ_MESSAGE_HISTORY, and ADD_REACTIONS for an emoji not yet on it;
    at most 20 distinct emoji per message). Idempotent. Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN,
    BAD_USER_INPUT, LIMIT_EXCEEDED.
    """
    addReaction(input: ReactionInput!): ReactionPayload!
    "Takes back the viewer's reaction. Idempotent. Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT."
    removeReaction(input: ReactionInput!): ReactionPayload!
  }
`;

type Ctx = GatewayContext;
type Reaction = { emoji: string; count: number; me: boolean };

const client = (context: Ctx) => context.clients.client(ReactionsService);

/** A message from an RPC carries embedsJson; one rendered from a stream event does not. */
export const fromRpc = (message: { embedsJson?: unknown }) => typeof message.embedsJson === "string";

/** Messages per ListReactions call (the service's limit). */
const CHUNK = 200;

async function reactionsOf(context: Ctx, ids: string[]): Promise<Map<string, Reaction[]>> {
  const found = new Map<string, Reaction[]>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const { messages } = await client(context).listReactions(
      { messageIds: ids.slice(i, i + CHUNK) },
      asViewer(context),
    );
    for (const message of messages) found.set(message.messageId, message.reactions);
  }
  return found;
}

/** Reactions (MSG-9): the mutations, reactionUsers, and `Message.reactions` batched per request. */
export const reactionsSchema: SchemaModule = {
  typeDefs,
  resolvers: {
    Message: {
      // Why not async: on the events stream (no viewer, shared execution) the answer stays synchronous.
      reactions: (message: { id: string; embedsJson?: unknown }, _args: unknown, context: Ctx) => {
        if (!fromRpc(message) || !context.viewer) return [];
        return loadBatched(context, "reactions", (ids) => reactionsOf(context, ids), message.id).then(
          (found) => found ?? [],
        );
      },
    },
    Query: {
      reactionUsers: (
        _root: unknown,
        args: { messageId: string; emoji: string; first?: number | null; after?: string | null },
        context: Ctx,
      ) =>
        client(context).listReactionUsers(
          { messageId: args.messageId, emoji: args.emoji, first: args.first ?? 0, after: args.after ?? "" },
          asViewer(context),
        ),
    },
    Mutation: {
      addReaction: (
        _root: unknown,
        { input }: { input: { messageId: string; emoji: string } },
        context: Ctx,
      ) => client(context).addReaction(input, asViewer(context)),
      removeReaction: (
        _root: unknown,
        { input }: { input: { messageId: string; emoji: string } },
        context: Ctx,
      ) => client(context).removeReaction(input, asViewer(context)),
    },
  },
};
