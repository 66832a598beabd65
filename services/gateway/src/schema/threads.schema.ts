import { ThreadsService } from "@beep/proto/gen/beep/messages/v1/threads_pb.ts";
import type { GatewayContext } from "../gateway.context.ts";
import { fromRpc } from "./reactions.schema.ts";
import { loadBatched } from "./request-batch.ts";
import { asViewer, type SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  """
  A thread started from a message (MSG-13). Its messages are messages with threadId set; it follows the
  permissions of its parent channel.
  """
  type Thread {
    "Opaque id."
    id: ID!
    "The server."
    serverId: ID!
    "The parent channel."
    channelId: ID!
    "The message it was started from."
    messageId: ID!
    "Its name."
    name: String!
    "Who started it."
    creatorId: ID!
    "When it was started."
    createdAt: DateTime!
    "How many messages it holds."
    messageCount: Int!
    "When its latest message was sent; null when it has none."
    lastMessageAt: DateTime
  }

  extend type Message {
    "The thread started from this message; null when none. Null on stream events (follow ThreadCreated)."
    thread: Thread
  }

  type Query {
    "A channel's threads, most recently active first (VIEW_CHANNEL + READ_MESSAGE_HISTORY). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN."
    threads(channelId: ID!): [Thread!]!
  }

  "Input of startThread."
  input StartThreadInput {
    "A message of a text channel (not itself in a thread)."
    messageId: ID!
    "1–100 characters."
    name: String!
  }

  "Result of startThread."
  type StartThreadPayload {
    "The new thread."
    thread: Thread!
  }

  "Input of renameThread."
  input RenameThreadInput {
    "The thread."
    threadId: ID!
    "1–100 characters."
    name: String!
  }

  "Result of renameThread."
  type RenameThreadPayload {
    "The thread with its new name."
    thread: Thread!
  }

  type Mutation {
    """
    Renames a thread: its creator, or a member with MANAGE_CHANNELS in the parent channel. Members of the
    channel get ThreadUpdated. Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT.
    """
    renameThread(input: RenameThreadInput!): RenameThreadPayload!
    """
    Starts the thread of a message (one per message; CREATE_PUBLIC_THREADS). Send into it with
    sendMessage(threadId), read it with messages(channelId, threadId). Errors: UNAUTHENTICATED, NOT_FOUND,
    FORBIDDEN, BAD_USER_INPUT, CONFLICT.
    """
    startThread(input: StartThreadInput!): StartThreadPayload!
  }
`;

type Ctx = GatewayContext;
type Thread = { messageId: string; lastMessageAt: string | null };
const client = (context: Ctx) => context.clients.client(ThreadsService);

/** Messages per ListMessageThreads call (the service's limit). */
const CHUNK = 200;

async function threadsOf(context: Ctx, ids: string[]): Promise<Map<string, Thread>> {
  const found = new Map<string, Thread>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const { threads } = await client(context).listMessageThreads(
      { messageIds: ids.slice(i, i + CHUNK) },
      asViewer(context),
    );
    for (const thread of threads) found.set(thread.messageId, thread);
  }
  return found;
}

/** Threads (MSG-13): startThread, threads(channelId), and `Message.thread` batched per request. */
export const threadsSchema: SchemaModule = {
  typeDefs,
  resolvers: {
    Thread: {
      // RPC threads carry "" for none; stream payloads carry null.
      lastMessageAt: (thread: Thread) => (thread.lastMessageAt === "" ? null : thread.lastMessageAt),
    },
    Message: {
      // Why not async: on the events stream (no viewer, shared execution) the answer stays synchronous.
      thread: (message: { id: string; embedsJson?: unknown }, _args: unknown, context: Ctx) => {
        if (!fromRpc(message) || !context.viewer) return null;
        return loadBatched(context, "threads", (ids) => threadsOf(context, ids), message.id).then(
          (found) => found ?? null,
        );
      },
    },
    Query: {
      threads: async (_root: unknown, { channelId }: { channelId: string }, context: Ctx) =>
        (await client(context).listThreads({ channelId }, asViewer(context))).threads,
    },
    Mutation: {
      startThread: (
        _root: unknown,
        { input }: { input: { messageId: string; name: string } },
        context: Ctx,
      ) => client(context).startThread(input, asViewer(context)),
      renameThread: (
        _root: unknown,
        { input }: { input: { threadId: string; name: string } },
        context: Ctx,
      ) => client(context).renameThread(input, asViewer(context)),
    },
  },
};
