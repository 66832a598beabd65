import type { SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  "Where a page of a cursor-paged connection ends."
  type PageInfo {
    "True when there is a next page (pass endCursor as after)."
    hasNextPage: Boolean!
    "The cursor of the last edge; null when the page is empty."
    endCursor: String
  }
`;

/** Types shared by every first/after connection (docs/api "Lists"). */
export const pagingSchema: SchemaModule = { typeDefs, resolvers: {} };

/** A service's page (empty string = no cursor) as a connection's pageInfo. */
export function pageInfo(page: { hasNextPage: boolean; endCursor: string }) {
  return { hasNextPage: page.hasNextPage, endCursor: page.endCursor || null };
}
