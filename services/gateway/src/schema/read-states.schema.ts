import { ReadStateService } from "@beep/proto/gen/beep/messages/v1/read_state_pb.ts";
import type { GatewayContext } from "../gateway.context.ts";
import { asViewer, type SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  "The viewer's read position in one channel and what is unread after it (MSG-11)."
  type ReadState {
    "The server."
    serverId: ID!
    "The channel."
    channelId: ID!
    "The last message read; null when nothing was read yet."
    lastReadMessageId: ID
    "Messages of others after it, counted up to 1000."
    unreadCount: Int!
    "True when more than 1000 messages are unread."
    hasMoreUnread: Boolean!
    "Of the unread, those mentioning the viewer, @everyone/@here or one of the viewer's roles."
    mentionCount: Int!
  }

  type Query {
    "The viewer's read state of every channel they can view in the server, by position. Errors: UNAUTHENTICATED, NOT_FOUND."
    readStates(serverId: ID!): [ReadState!]!
  }

  "Input of markChannelRead."
  input MarkChannelReadInput {
    "The channel."
    channelId: ID!
    "A message of the channel to mark read up to; its latest when absent."
    messageId: ID
  }

  "Result of markChannelRead."
  type MarkChannelReadPayload {
    "The channel's read state now."
    readState: ReadState!
  }

  type Mutation {
    """
    Marks a channel read up to a message (default: its latest); the position never moves backwards. The
    viewer's other connections receive ReadStateUpdated. Errors: UNAUTHENTICATED, NOT_FOUND, BAD_USER_INPUT.
    """
    markChannelRead(input: MarkChannelReadInput!): MarkChannelReadPayload!
  }
`;

type Ctx = GatewayContext;
const client = (context: Ctx) => context.clients.client(ReadStateService);
const orNull = (value: string) => (value === "" ? null : value);

/** Read states (MSG-11). */
export const readStatesSchema: SchemaModule = {
  typeDefs,
  resolvers: {
    ReadState: {
      lastReadMessageId: (state: { lastReadMessageId: string }) => orNull(state.lastReadMessageId),
    },
    Query: {
      readStates: async (_root: unknown, { serverId }: { serverId: string }, context: Ctx) =>
        (await client(context).listReadStates({ serverId }, asViewer(context))).readStates,
    },
    Mutation: {
      markChannelRead: (
        _root: unknown,
        { input }: { input: { channelId: string; messageId?: string | null } },
        context: Ctx,
      ) =>
        client(context).markChannelRead(
          { channelId: input.channelId, messageId: input.messageId ?? "" },
          asViewer(context),
        ),
    },
  },
};
