import type { GraphQLSchema } from "graphql";
import { createSchema } from "graphql-yoga";
import type { GatewayContext } from "./gateway.context.ts";
import { schemaModules } from "./schema/index.ts";

/** The executable public schema, merged from every feature's slice. */
export function createGatewaySchema(): GraphQLSchema {
  return createSchema<GatewayContext>({
    typeDefs: schemaModules.map((module) => module.typeDefs),
    // Why the cast: each slice types its own resolvers; graphql-tools validates them against the SDL at start.
    resolvers: schemaModules.map((module) => module.resolvers) as Parameters<
      typeof createSchema<GatewayContext>
    >[0]["resolvers"],
  });
}
