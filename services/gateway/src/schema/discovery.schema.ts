import { DiscoveryService } from "@beep/proto/gen/beep/servers/v1/discovery_pb.ts";
import type { GatewayContext } from "../gateway.context.ts";
import { pageInfo } from "./paging.schema.ts";
import { asViewer, type SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  "One public server found by discoverServers."
  type ServerEdge {
    "The server (its profile and member count)."
    node: Server!
    "Pass as after to continue after this server."
    cursor: String!
  }

  "A page of public servers."
  type ServerConnection {
    "The servers of this page, best first."
    edges: [ServerEdge!]!
    "Where the page ends."
    pageInfo: PageInfo!
  }

  type Query {
    "Public servers matching query by name (weighs most) and description: accent- and case-insensitive, the last word as a prefix; best match first. An empty or absent query lists the most popular, then newest. Private servers never appear. first: 1–100, default 50. Errors: UNAUTHENTICATED, BAD_USER_INPUT."
    discoverServers(query: String, first: Int, after: String): ServerConnection!
  }
`;

type Ctx = GatewayContext;

/** Discovery of public servers (SRV-2). */
export const discoverySchema: SchemaModule = {
  typeDefs,
  resolvers: {
    Query: {
      discoverServers: async (
        _root: unknown,
        args: { query?: string | null; first?: number | null; after?: string | null },
        context: Ctx,
      ) => {
        const page = await context.clients
          .client(DiscoveryService)
          .discoverServers(
            { query: args.query ?? "", first: args.first ?? 0, after: args.after ?? "" },
            asViewer(context),
          );
        return {
          edges: page.edges.map((edge) => ({ node: edge.server, cursor: edge.cursor })),
          pageInfo: pageInfo(page),
        };
      },
    },
  },
};
