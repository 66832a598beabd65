import type { GraphQLSchema } from "graphql";
import { createSchema } from "graphql-yoga";
import type { GatewayContext } from "./gateway.context.ts";
import { resolvers } from "./resolvers/resolvers.ts";
import { typeDefs } from "./schema/type-defs.ts";

/** The executable public schema. */
export function createGatewaySchema(): GraphQLSchema {
  return createSchema<GatewayContext>({ typeDefs, resolvers });
}
