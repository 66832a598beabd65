import type { SchemaModule } from "./schema-module.ts";

/** Scalars and root-type descriptions shared by every feature. */
export const baseSchema: SchemaModule = {
  typeDefs: /* GraphQL */ `
    """
    ISO-8601 date and time, always UTC (e.g. 2026-11-23T15:45:00.000Z).
    """
    scalar DateTime

    "Read operations."
    type Query

    "Write operations; each takes one input and returns a payload."
    type Mutation

    "Real-time streams over graphql-ws."
    type Subscription
  `,
  resolvers: {},
};
