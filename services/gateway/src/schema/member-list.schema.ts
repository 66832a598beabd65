import { MemberListService } from "@beep/proto/gen/beep/servers/v1/member_list_pb.ts";
import type { GatewayContext } from "../gateway.context.ts";
import { pageInfo } from "./paging.schema.ts";
import { asViewer, type SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  "A member as the paged member lists show them (SRV-7)."
  type ServerMember {
    "The server."
    serverId: ID!
    "The member's user id."
    userId: ID!
    "The member's username; empty while not known to the servers service yet."
    username: String!
    "The member's display name; empty when not set."
    displayName: String!
    "Roles held besides @everyone, highest first."
    roles: [Role!]!
    "When they joined."
    joinedAt: DateTime!
    "Until when they are timed out; null when they are not."
    timedOutUntil: DateTime
    "True for the server's owner."
    owner: Boolean!
  }

  "One member of a page, with its cursor."
  type ServerMemberEdge {
    "The member."
    node: ServerMember!
    "Pass as after to continue after this member."
    cursor: String!
  }

  "A page of members, in join order."
  type ServerMemberConnection {
    "The members of this page."
    edges: [ServerMemberEdge!]!
    "Where the page ends."
    pageInfo: PageInfo!
  }

  type Query {
    "A server's members in join order (members only); query filters by username prefix, case-insensitively. first: 1–100, default 50. Errors: UNAUTHENTICATED, NOT_FOUND, BAD_USER_INPUT."
    serverMembers(serverId: ID!, first: Int, after: String, query: String): ServerMemberConnection!
    "The members who can view a channel (CHAN-4), in join order; the viewer must see the channel. first: 1–100, default 50. Errors: UNAUTHENTICATED, NOT_FOUND, BAD_USER_INPUT."
    channelMembers(channelId: ID!, first: Int, after: String): ServerMemberConnection!
  }
`;

type Ctx = GatewayContext;
type Page = {
  edges: Array<{ member?: { timedOutUntil: string } & Record<string, unknown>; cursor: string }>;
  hasNextPage: boolean;
  endCursor: string;
};

const connection = (page: Page) => ({
  edges: page.edges.map((edge) => ({
    node: { ...edge.member, timedOutUntil: edge.member?.timedOutUntil || null },
    cursor: edge.cursor,
  })),
  pageInfo: pageInfo(page),
});

/** Paged member lists of servers and channels (SRV-7, CHAN-4). */
export const memberListSchema: SchemaModule = {
  typeDefs,
  resolvers: {
    Query: {
      serverMembers: async (
        _root: unknown,
        args: { serverId: string; first?: number | null; after?: string | null; query?: string | null },
        context: Ctx,
      ) =>
        connection(
          await context.clients.client(MemberListService).listServerMembers(
            {
              serverId: args.serverId,
              first: args.first ?? 0,
              after: args.after ?? "",
              query: args.query ?? "",
            },
            asViewer(context),
          ),
        ),
      channelMembers: async (
        _root: unknown,
        args: { channelId: string; first?: number | null; after?: string | null },
        context: Ctx,
      ) =>
        connection(
          await context.clients
            .client(MemberListService)
            .listChannelMembers(
              { channelId: args.channelId, first: args.first ?? 0, after: args.after ?? "" },
              asViewer(context),
            ),
        ),
    },
  },
};
