import { describe, expect, it } from "vitest";
import { dataOf, graphql } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id } } }`;
const DISCOVER = `query ($query: String, $first: Int, $after: String) {
  discoverServers(query: $query, first: $first, after: $after) {
    edges { cursor node { id name public memberCount } }
    pageInfo { hasNextPage endCursor }
  }
}`;

type Page = {
  discoverServers: {
    edges: Array<{
      cursor: string;
      node: { id: string; name: string; public: boolean; memberCount: number };
    }>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
};

/** Discovery of public servers (SRV-2) through the gateway, in every topology (the all-in-one one runs the embedded PostgreSQL). */
export function defineDiscoveryScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;

  describe("server discovery", () => {
    it("finds public servers accent- and case-insensitively by prefix, never private ones, paged", async () => {
      const owner = await signedInUser(url());
      const tag = `dq${Date.now().toString(36)}`;
      const create = async (name: string, description: string, isPublic: boolean) =>
        dataOf(
          await graphql<{ createServer: { server: { id: string } } }>(
            url(),
            CREATE_SERVER,
            { input: { name, description, public: isPublic } },
            owner.accessToken,
          ),
        ).createServer.server.id;
      const cafe = await create(`Café ${tag}`, "Programming over espresso", true);
      await create(`Café ${tag} secret`, "private", false);
      const other = await create(`Reading ${tag}`, "books at the café", true);
      const discover = async (variables: Record<string, unknown>) =>
        dataOf(await graphql<Page>(url(), DISCOVER, variables, owner.accessToken)).discoverServers;

      const found = await discover({ query: `CAFE ${tag}` });
      expect(found.edges.map((e) => e.node.id)).toEqual([cafe, other]); // name (A) above description (B)
      expect(found.edges[0]?.node).toMatchObject({ public: true, memberCount: 1 });
      expect((await discover({ query: `${tag} prog` })).edges.map((e) => e.node.id)).toEqual([cafe]);
      expect((await discover({ query: `secret ${tag}` })).edges).toEqual([]);

      const first = await discover({ query: `cafe ${tag}`, first: 1 });
      expect(first.pageInfo.hasNextPage).toBe(true);
      const second = await discover({ query: `cafe ${tag}`, first: 1, after: first.pageInfo.endCursor });
      expect(second.edges.map((e) => e.node.id)).toEqual([other]);
      expect(second.pageInfo).toEqual({ hasNextPage: false, endCursor: second.edges[0]?.cursor });

      const popular = await discover({ first: 100 });
      expect(popular.edges.every((e) => e.node.public)).toBe(true);
      const bad = await graphql(url(), DISCOVER, { query: "x", after: "nope" }, owner.accessToken);
      expect(bad.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      const anonymous = await graphql(url(), DISCOVER, { query: "x" });
      expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    });
  });
}
