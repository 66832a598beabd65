import { MessageSearchService } from "@beep/proto/gen/beep/messages/v1/message_search_pb.ts";
import type { GatewayContext } from "../gateway.context.ts";
import { asViewer, type SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  "What a searched message must carry (MSG-12)."
  enum MessageSearchHas {
    "An attached file (none match until messages carry attachments)."
    FILE
    "An http(s) link in its text."
    LINK
    "A link preview."
    EMBED
  }

  "The order of search results."
  enum MessageSearchSort {
    "Best match first; newest first among equals."
    RELEVANCE
    "Newest first."
    NEWEST
  }

  "A page of search results."
  type MessageSearchResult {
    "The page's messages, in the requested order."
    messages: [Message!]!
    "Matches of the whole search (all pages) in channels the viewer can read, counted up to 1000."
    totalHits: Int!
    "True when there are more than 1000 matches (totalHits is then 1000)."
    totalHitsCapped: Boolean!
    "Pass as after for the next page; null for an empty page."
    endCursor: String
    "True when another page follows."
    hasMore: Boolean!
  }

  type Query {
    """
    Searches a server's messages in the channels where the viewer holds VIEW_CHANNEL and
    READ_MESSAGE_HISTORY (MSG-12). query: words (all must match, each as a prefix, case and accents
    ignored; parts of URLs and hostnames too), "quoted phrases", from:username, in:#channel,
    has:link|file|embed, before:YYYY-MM-DD, after:YYYY-MM-DD. The other arguments narrow it further.
    first 1–100 (default 25). Errors: UNAUTHENTICATED, NOT_FOUND (server or channel), BAD_USER_INPUT.
    """
    searchMessages(
      "The server to search."
      serverId: ID!
      "The search box text (up to 500 characters); may be empty when a filter is given."
      query: String
      "Only this channel."
      channelId: ID
      "Only messages by this user."
      authorId: ID
      "Only messages carrying all of these."
      has: [MessageSearchHas!]
      "Only messages sent before this instant."
      sentBefore: DateTime
      "Only messages sent at or after this instant."
      sentAfter: DateTime
      "Result order; RELEVANCE by default."
      sort: MessageSearchSort
      "Page size, 1–100; 25 by default."
      first: Int
      "The endCursor of the previous page."
      after: String
    ): MessageSearchResult!
  }
`;

interface SearchArgs {
  serverId: string;
  query?: string | null;
  channelId?: string | null;
  authorId?: string | null;
  has?: string[] | null;
  sentBefore?: string | Date | null;
  sentAfter?: string | Date | null;
  sort?: string | null;
  first?: number | null;
  after?: string | null;
}

const instant = (value: string | Date | null | undefined) =>
  value instanceof Date ? value.toISOString() : (value ?? "");

/** Message search (MSG-12). */
export const messageSearchSchema: SchemaModule = {
  typeDefs,
  resolvers: {
    MessageSearchResult: {
      endCursor: (page: { endCursor: string }) => (page.endCursor === "" ? null : page.endCursor),
    },
    Query: {
      searchMessages: (_root: unknown, args: SearchArgs, context: GatewayContext) =>
        context.clients.client(MessageSearchService).searchMessages(
          {
            serverId: args.serverId,
            query: args.query ?? "",
            channelId: args.channelId ?? "",
            authorId: args.authorId ?? "",
            has: args.has ?? [],
            sentBefore: instant(args.sentBefore),
            sentAfter: instant(args.sentAfter),
            sort: args.sort ?? "",
            first: args.first ?? 0,
            after: args.after ?? "",
          },
          asViewer(context),
        ),
    },
  },
};
