import { MessagesService } from "@beep/proto/gen/beep/messages/v1/messages_pb.ts";
import type { GatewayContext } from "../gateway.context.ts";
import { asViewer, type SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  "Who and what a message mentions, resolved by the server when it was sent or edited (MSG-6)."
  type MessageMentions {
    "Users mentioned by @username or <@id> who can view the channel."
    userIds: [ID!]!
    "Roles mentioned by @rolename or <@&id>."
    roleIds: [ID!]!
    "Channels of the same server tagged by #name or <#id> that the sender can view."
    channelIds: [ID!]!
    "True for @everyone or @here by a sender with MENTION_EVERYONE."
    everyone: Boolean!
  }

  "The message a reply points at; only id and deleted once the original is deleted (MSG-3)."
  type MessageReference {
    "The original message's id."
    id: ID!
    "True when the original was deleted."
    deleted: Boolean!
    "The original's author; null once deleted."
    authorId: ID
    "The original's text; null once deleted."
    content: String
  }

  "A picture or player of a link preview: an absolute http(s) URL and its size when known."
  type MessageEmbedMedia {
    "Absolute http(s) URL (an image, or a player to embed in an iframe)."
    url: String!
    "Width in pixels; null when unknown."
    width: Int
    "Height in pixels; null when unknown."
    height: Int
  }

  "A link preview attached to a message (MSG-7), added asynchronously after the send; optional parts are null."
  type MessageEmbed {
    "The previewed URL, as found in the message."
    url: String!
    "What kind of card: link, video, rich (a provider widget) or image."
    type: String!
    "The site to show above the title (og:site_name, the oEmbed provider, else the host)."
    siteName: String!
    "The title; empty when the page has none."
    title: String!
    "The description; empty when none."
    description: String!
    "Thumbnail or main picture."
    image: MessageEmbedMedia
    "Player (YouTube, Spotify) or og:video."
    video: MessageEmbedMedia
    "Who served the data: the oEmbed provider's name, else the host without www."
    providerName: String!
    "The author (YouTube channel, tweet author) when the provider gives one."
    authorName: String
    "Accent colour #rrggbb; null when none."
    color: String
  }

  "A file attached to a message (MSG-8). Download it with the viewer's bearer token (see docs/API.md)."
  type MessageAttachment {
    "Opaque id."
    id: ID!
    "The uploader's file name."
    filename: String!
    "Sniffed from the bytes: image/png, image/jpeg, image/gif, image/webp, else application/octet-stream."
    contentType: String!
    "Bytes."
    size: Int!
    "Pixels, for images; null otherwise."
    width: Int
    "Pixels, for images; null otherwise."
    height: Int
    "Path of the download (GET with the bearer token), relative to the gateway."
    url: String!
    "Path of a WebP thumbnail of at most 400 px on its longer side (images only); null otherwise."
    thumbnailUrl: String
  }

  """
  A message in a text channel (MSG-1). Ids are 64-bit time-ordered snowflakes: within a channel, a
  larger id was committed later.
  """
  type Message {
    "Opaque id; compare as numbers for order."
    id: ID!
    "The server of the channel."
    serverId: ID!
    "The channel."
    channelId: ID!
    "The thread it belongs to; null for the channel itself."
    threadId: ID
    "The author's user id."
    authorId: ID!
    "Markdown, as the author wrote it (up to 4000 characters)."
    content: String!
    "The client nonce it was sent with; null when none."
    nonce: String
    "When it was sent."
    createdAt: DateTime!
    "When it was last edited; null when never."
    editedAt: DateTime
    "The message it replies to; null when not a reply."
    replyToId: ID
    "What it replies to, or a deleted reference."
    replyTo: MessageReference
    "True while pinned."
    pinned: Boolean!
    "When it was pinned; null when not pinned."
    pinnedAt: DateTime
    "Who pinned it; null when not pinned."
    pinnedBy: ID
    "Resolved mentions."
    mentions: MessageMentions!
    "Link previews."
    embeds: [MessageEmbed!]!
    "Attached files, in upload order (MSG-8)."
    attachments: [MessageAttachment!]!
  }

  "A page of history, newest first."
  type MessagePage {
    "Newest first."
    messages: [Message!]!
    "True when more messages exist past the page (older for before/none, newer for after, either side for around)."
    hasMore: Boolean!
  }

  type Query {
    """
    A channel's history, newest first (MSG-5; VIEW_CHANNEL + READ_MESSAGE_HISTORY). At most one of before,
    after, around (message ids; before/after exclude it, around includes it). limit 1–100, default 50.
    threadId: a thread of the channel, whose history is returned instead (thread messages are never in the
    channel's own history).
    Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT.
    """
    messages(channelId: ID!, before: ID, after: ID, around: ID, limit: Int, threadId: ID): MessagePage!
    "One message (VIEW_CHANNEL + READ_MESSAGE_HISTORY). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN."
    message(id: ID!): Message!
    "A channel's pinned messages, most recently pinned first (MSG-4). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN."
    pins(channelId: ID!): [Message!]!
  }

  "Input of sendMessage."
  input SendMessageInput {
    "A text channel."
    channelId: ID!
    "Markdown, up to 4000 characters, not only whitespace; may be empty when attachmentIds are given."
    content: String!
    "Client-chosen id (up to 64 characters): a retry with the same nonce returns the same message."
    nonce: String
    "A message of the same channel to reply to."
    replyToId: ID
    """
    Up to 10 of the viewer's pending uploads to this channel (POST /attachments; ATTACH_FILES), each once.
    Anything else is BAD_USER_INPUT (field attachmentIds).
    """
    attachmentIds: [ID!]
    "A thread of the channel to send into (SEND_MESSAGES_IN_THREADS instead of SEND_MESSAGES)."
    threadId: ID
  }

  "Input of editMessage."
  input EditMessageInput {
    "One of the viewer's messages."
    messageId: ID!
    "The new Markdown, 1–4000 characters."
    content: String!
  }

  "Input of deleteMessage, pinMessage and unpinMessage."
  input MessageIdInput {
    "The message."
    messageId: ID!
  }

  "Result of sendMessage, editMessage, pinMessage and unpinMessage."
  type MessagePayload {
    "The message as it is now."
    message: Message!
  }

  "Result of deleteMessage."
  type DeleteMessagePayload {
    "The deleted message."
    messageId: ID!
    "Its channel."
    channelId: ID!
  }

  "Input of startTyping."
  input StartTypingInput {
    "A text channel."
    channelId: ID!
  }

  "Result of startTyping."
  type StartTypingPayload {
    "When the indicator lapses unless renewed."
    expiresAt: DateTime!
  }

  type Mutation {
    "Sends a message (VIEW_CHANNEL + SEND_MESSAGES). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT."
    sendMessage(input: SendMessageInput!): MessagePayload!
    "Edits one of the viewer's messages. Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT."
    editMessage(input: EditMessageInput!): MessagePayload!
    "Deletes the viewer's message, or anyone's with MANAGE_MESSAGES. Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN."
    deleteMessage(input: MessageIdInput!): DeleteMessagePayload!
    "Pins a message (PIN_MESSAGES; 50 per channel). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, LIMIT_EXCEEDED."
    pinMessage(input: MessageIdInput!): MessagePayload!
    "Unpins a message (PIN_MESSAGES). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN."
    unpinMessage(input: MessageIdInput!): MessagePayload!
    "Tells the channel the viewer is typing (MSG-10; VIEW_CHANNEL + SEND_MESSAGES); ephemeral. Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN."
    startTyping(input: StartTypingInput!): StartTypingPayload!
  }
`;

type Ctx = GatewayContext;
type Input<T> = { input: T };
type Rpc = ReturnType<typeof rpc>;

const rpc = (context: Ctx) => context.clients.client(MessagesService);
/** Calls MessagesService as the viewer. */
const call = <T>(context: Ctx, run: (client: Rpc, options: ReturnType<typeof asViewer>) => Promise<T>) =>
  run(rpc(context), asViewer(context));

const orNull = (value: string | null | undefined) => (value === "" || value === undefined ? null : value);
const text = (value: unknown) => (typeof value === "string" ? value : null);
const size = (value: unknown) => (typeof value === "number" && Number.isInteger(value) ? value : null);
/** An embed's stored {url, width?, height?}, or null. */
const media = (value: unknown) => {
  const item = value as { url?: unknown; width?: unknown; height?: unknown } | null | undefined;
  const url = text(item?.url);
  return url ? { url, width: size(item?.width), height: size(item?.height) } : null;
};

/**
 * A Message root value: either the RPC message (empty strings for absent values, embeds as JSON) or the
 * bus events' MessageView rendered on the events stream (nulls, embeds as an array, `pinned` boolean).
 */
interface ProtoMessage {
  threadId: string | null;
  nonce: string | null;
  editedAt: string | null;
  replyToId: string | null;
  pinnedAt?: string | null;
  pinnedBy?: string | null;
  pinned?: boolean;
  embedsJson?: string;
  embeds?: unknown;
  replyTo?: { id: string; deleted: boolean; authorId: string; content: string } | null | undefined;
  attachments?: ProtoAttachment[];
}

function embedList(m: ProtoMessage): unknown[] {
  if (Array.isArray(m.embeds)) return m.embeds;
  const parsed: unknown = JSON.parse(m.embedsJson || "[]");
  return Array.isArray(parsed) ? parsed : [];
}

interface ProtoAttachment {
  id: string;
  filename: string;
  contentType: string;
  size: bigint | number;
  width: number | null;
  height: number | null;
  url: string;
  thumbnailUrl: string | null;
}

/** Messages, history, pins, replies, mentions and typing (MSG-1 … MSG-6, MSG-10). */
export const messagesSchema: SchemaModule = {
  typeDefs,
  resolvers: {
    Message: {
      threadId: (m: ProtoMessage) => orNull(m.threadId),
      nonce: (m: ProtoMessage) => orNull(m.nonce),
      editedAt: (m: ProtoMessage) => orNull(m.editedAt),
      replyToId: (m: ProtoMessage) => orNull(m.replyToId),
      pinned: (m: ProtoMessage) => (typeof m.pinned === "boolean" ? m.pinned : orNull(m.pinnedAt) !== null),
      pinnedAt: (m: ProtoMessage) => orNull(m.pinnedAt),
      pinnedBy: (m: ProtoMessage) => orNull(m.pinnedBy),
      replyTo: (m: ProtoMessage) =>
        m.replyTo
          ? m.replyTo.deleted
            ? { id: m.replyTo.id, deleted: true, authorId: null, content: null }
            : m.replyTo
          : null,
      attachments: (m: ProtoMessage) =>
        (m.attachments ?? []).map((a) => ({
          id: a.id,
          filename: a.filename,
          contentType: a.contentType,
          size: Number(a.size),
          width: a.width || null,
          height: a.height || null,
          url: a.url,
          thumbnailUrl: orNull(a.thumbnailUrl),
        })),
      embeds: (m: ProtoMessage) => {
        return (embedList(m) as Array<Record<string, unknown>>).map((embed) => ({
          url: text(embed.url) ?? "",
          type: text(embed.type) ?? "link",
          siteName: text(embed.siteName) ?? "",
          title: text(embed.title) ?? "",
          description: text(embed.description) ?? "",
          image: media(embed.image),
          video: media(embed.video),
          providerName: text(embed.providerName) ?? "",
          authorName: text(embed.authorName),
          color: text(embed.color),
        }));
      },
    },
    Query: {
      messages: (
        _root: unknown,
        args: {
          channelId: string;
          before?: string | null;
          after?: string | null;
          around?: string | null;
          limit?: number | null;
          threadId?: string | null;
        },
        context: Ctx,
      ) =>
        call(context, (c, o) =>
          c.listMessages(
            {
              channelId: args.channelId,
              before: args.before ?? "",
              after: args.after ?? "",
              around: args.around ?? "",
              limit: args.limit ?? 0,
              threadId: args.threadId ?? "",
            },
            o,
          ),
        ),
      message: (_root: unknown, { id }: { id: string }, context: Ctx) =>
        call(context, async (c, o) => (await c.getMessage({ messageId: id }, o)).message),
      pins: (_root: unknown, { channelId }: { channelId: string }, context: Ctx) =>
        call(context, async (c, o) => (await c.listPins({ channelId }, o)).messages),
    },
    Mutation: {
      sendMessage: (
        _root: unknown,
        {
          input,
        }: Input<{
          channelId: string;
          content: string;
          nonce?: string | null;
          replyToId?: string | null;
          attachmentIds?: string[] | null;
          threadId?: string | null;
        }>,
        context: Ctx,
      ) =>
        call(context, (c, o) =>
          c.sendMessage(
            {
              channelId: input.channelId,
              content: input.content,
              nonce: input.nonce ?? "",
              replyToId: input.replyToId ?? "",
              attachmentIds: input.attachmentIds ?? [],
              threadId: input.threadId ?? "",
            },
            o,
          ),
        ),
      editMessage: (_root: unknown, { input }: Input<{ messageId: string; content: string }>, context: Ctx) =>
        call(context, (c, o) => c.editMessage(input, o)),
      deleteMessage: (_root: unknown, { input }: Input<{ messageId: string }>, context: Ctx) =>
        call(context, (c, o) => c.deleteMessage(input, o)),
      pinMessage: (_root: unknown, { input }: Input<{ messageId: string }>, context: Ctx) =>
        call(context, (c, o) => c.pinMessage(input, o)),
      unpinMessage: (_root: unknown, { input }: Input<{ messageId: string }>, context: Ctx) =>
        call(context, (c, o) => c.unpinMessage(input, o)),
      startTyping: (_root: unknown, { input }: Input<{ channelId: string }>, context: Ctx) =>
        call(context, (c, o) => c.startTyping(input, o)),
    },
  },
};
