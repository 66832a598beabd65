import { describe, expect, it } from "vitest";
import { dataOf, graphql } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const VIEW_CHANNEL = String(1n << 10n);
const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id } } }`;
const JOIN = `mutation ($input: ServerIdInput!) { joinServer(input: $input) { server { id } } }`;
const CREATE_CHANNEL = `mutation ($input: CreateChannelInput!) { createChannel(input: $input) { channel { id } } }`;
const SET_OVERWRITE = `mutation ($input: SetChannelOverwriteInput!) { setChannelOverwrite(input: $input) { channel { id } } }`;
const SERVER_MEMBERS = `query ($serverId: ID!, $first: Int, $after: String, $query: String) {
  serverMembers(serverId: $serverId, first: $first, after: $after, query: $query) {
    edges { cursor node { userId username owner joinedAt timedOutUntil roles { name } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const CHANNEL_MEMBERS = `query ($channelId: ID!, $first: Int, $after: String) {
  channelMembers(channelId: $channelId, first: $first, after: $after) {
    edges { node { userId } } pageInfo { hasNextPage endCursor }
  }
}`;

type Connection = {
  edges: Array<{ cursor: string; node: { userId: string; username: string; owner: boolean } }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
};

/** Paged member lists of servers and channels (SRV-7, CHAN-4) through the gateway, in every topology. */
export function defineMemberListScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;

  describe("member lists", () => {
    it("pages a server's members with names from the users events, and who can view a private channel", async () => {
      const owner = await signedInUser(url());
      const [ann, bob, stranger] = [
        await signedInUser(url()),
        await signedInUser(url()),
        await signedInUser(url()),
      ];
      const serverId = dataOf(
        await graphql<{ createServer: { server: { id: string } } }>(
          url(),
          CREATE_SERVER,
          { input: { name: "Members", public: true } },
          owner.accessToken,
        ),
      ).createServer.server.id;
      for (const member of [ann, bob]) {
        dataOf(await graphql(url(), JOIN, { input: { serverId } }, member.accessToken));
      }
      const list = async (variables: Record<string, unknown>, token = owner.accessToken) =>
        dataOf(
          await graphql<{ serverMembers: Connection }>(
            url(),
            SERVER_MEMBERS,
            { serverId, ...variables },
            token,
          ),
        ).serverMembers;

      const first = await list({ first: 2 });
      expect(first.edges.map((e) => e.node.userId)).toEqual([owner.user.id, ann.user.id]);
      expect(first.edges[0]?.node.owner).toBe(true);
      const rest = await list({ first: 2, after: first.pageInfo.endCursor });
      expect(rest.edges.map((e) => e.node.userId)).toEqual([bob.user.id]);
      expect(rest.pageInfo.hasNextPage).toBe(false);

      // Names arrive by the users service's events: allow the bus a moment, never a silent pass.
      const username = ann.identity.username;
      const deadline = Date.now() + 5_000;
      let found: Connection | undefined;
      while (Date.now() < deadline) {
        found = await list({ query: username.slice(0, 8).toUpperCase() });
        if (found.edges.some((e) => e.node.userId === ann.user.id)) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(found?.edges.find((e) => e.node.userId === ann.user.id)?.node.username).toBe(username);
      expect((await list({ query: username })).edges.map((e) => e.node.userId)).toEqual([ann.user.id]);

      const strangerView = await graphql(url(), SERVER_MEMBERS, { serverId }, stranger.accessToken);
      expect(strangerView.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");

      const channelId = dataOf(
        await graphql<{ createChannel: { channel: { id: string } } }>(
          url(),
          CREATE_CHANNEL,
          { input: { serverId, name: "private" } },
          owner.accessToken,
        ),
      ).createChannel.channel.id;
      for (const overwrite of [
        { targetType: "ROLE", targetId: serverId, deny: VIEW_CHANNEL },
        { targetType: "MEMBER", targetId: bob.user.id, allow: VIEW_CHANNEL },
      ]) {
        dataOf(
          await graphql(url(), SET_OVERWRITE, { input: { channelId, ...overwrite } }, owner.accessToken),
        );
      }
      const viewers = dataOf(
        await graphql<{ channelMembers: Connection }>(url(), CHANNEL_MEMBERS, { channelId }, bob.accessToken),
      ).channelMembers;
      expect(viewers.edges.map((e) => e.node.userId)).toEqual([owner.user.id, bob.user.id]);
      const hidden = await graphql(url(), CHANNEL_MEMBERS, { channelId }, ann.accessToken);
      expect(hidden.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    });
  });
}
