import { describe, expect, it } from "vitest";
import { dataOf, graphql } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(32, 5),
]);

/** Deleting a server leaves nothing of it readable through the API (SRV-5), in every topology. */
export function defineServerDeletionScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;

  describe("server deletion", () => {
    it("after deleteServer every id-taking query and mutation answers NOT_FOUND and no list shows it", async () => {
      const owner = await signedInUser(url());
      const member = await signedInUser(url());
      const guest = await signedInUser(url());
      const as = async <T>(token: string, query: string, variables: Record<string, unknown> = {}) =>
        dataOf(await graphql<T>(url(), query, variables, token));
      const serverId = (
        await as<{ createServer: { server: { id: string } } }>(
          owner.accessToken,
          `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id } } }`,
          { input: { name: "Ephemeral zx", public: true } },
        )
      ).createServer.server.id;
      await as(
        member.accessToken,
        `mutation ($input: ServerIdInput!) { joinServer(input: $input) { server { id } } }`,
        {
          input: { serverId },
        },
      );
      const channelId = (
        await as<{ createChannel: { channel: { id: string } } }>(
          owner.accessToken,
          `mutation ($input: CreateChannelInput!) { createChannel(input: $input) { channel { id } } }`,
          { input: { serverId, name: "doomed" } },
        )
      ).createChannel.channel.id;
      const roleId = (
        await as<{ createRole: { role: { id: string } } }>(
          owner.accessToken,
          `mutation ($input: CreateRoleInput!) { createRole(input: $input) { role { id } } }`,
          { input: { serverId, name: "mod" } },
        )
      ).createRole.role.id;
      const code = (
        await as<{ createInvite: { invite: { code: string } } }>(
          owner.accessToken,
          `mutation ($input: CreateInviteInput!) { createInvite(input: $input) { invite { code } } }`,
          { input: { serverId } },
        )
      ).createInvite.invite.code;
      const inApp = (
        await as<{ sendServerInvite: { invite: { code: string } } }>(
          owner.accessToken,
          `mutation ($input: SendServerInviteInput!) { sendServerInvite(input: $input) { invite { code } } }`,
          { input: { serverId, userId: guest.user.id } },
        )
      ).sendServerInvite.invite.code;
      const picture = await fetch(`${url()}/servers/${serverId}/picture`, {
        method: "PUT",
        headers: { authorization: `Bearer ${owner.accessToken}`, "content-type": "image/png" },
        body: PNG as unknown as BodyInit,
      });
      const { url: picturePath } = (await picture.json()) as { url: string };

      await as(
        owner.accessToken,
        `mutation ($input: ServerIdInput!) { deleteServer(input: $input) { serverId } }`,
        {
          input: { serverId },
        },
      );

      const ids = { serverId, channelId, roleId, code, userId: member.user.id };
      const operations: Array<[string, string]> = [
        ["server", `query ($serverId: ID!) { server(id: $serverId) { id } }`],
        ["invites", `query ($serverId: ID!) { invites(serverId: $serverId) { code } }`],
        ["bans", `query ($serverId: ID!) { bans(serverId: $serverId) { userId } }`],
        ["auditLog", `query ($serverId: ID!) { auditLog(serverId: $serverId) { entries { id } } }`],
        ["myPermissions", `query ($serverId: ID!) { myPermissions(serverId: $serverId) }`],
        [
          "explainPermissions",
          `query ($serverId: ID!, $channelId: ID!) { explainPermissions(serverId: $serverId, channelId: $channelId) { permissions } }`,
        ],
        [
          "serverMembers",
          `query ($serverId: ID!) { serverMembers(serverId: $serverId) { edges { cursor } } }`,
        ],
        [
          "channelMembers",
          `query ($channelId: ID!) { channelMembers(channelId: $channelId) { edges { cursor } } }`,
        ],
        [
          "updateServer",
          `mutation ($serverId: ID!) { updateServer(input: { serverId: $serverId, name: "again" }) { server { id } } }`,
        ],
        [
          "deleteServer",
          `mutation ($serverId: ID!) { deleteServer(input: { serverId: $serverId }) { serverId } }`,
        ],
        [
          "joinServer",
          `mutation ($serverId: ID!) { joinServer(input: { serverId: $serverId }) { server { id } } }`,
        ],
        [
          "createInvite",
          `mutation ($serverId: ID!) { createInvite(input: { serverId: $serverId }) { invite { code } } }`,
        ],
        [
          "joinServerByInvite",
          `mutation ($code: String!) { joinServerByInvite(input: { code: $code }) { server { id } } }`,
        ],
        [
          "updateChannel",
          `mutation ($channelId: ID!) { updateChannel(input: { channelId: $channelId, name: "x" }) { channel { id } } }`,
        ],
        [
          "syncChannelPermissions",
          `mutation ($channelId: ID!) { syncChannelPermissions(input: { channelId: $channelId }) { channel { id } } }`,
        ],
        [
          "updateRole",
          `mutation ($serverId: ID!, $roleId: ID!) { updateRole(input: { serverId: $serverId, roleId: $roleId, name: "x" }) { role { id } } }`,
        ],
        [
          "banMember",
          `mutation ($serverId: ID!, $userId: ID!) { banMember(input: { serverId: $serverId, userId: $userId }) { ban { userId } } }`,
        ],
        [
          "sendServerInvite",
          `mutation ($serverId: ID!, $userId: ID!) { sendServerInvite(input: { serverId: $serverId, userId: $userId }) { invite { code } } }`,
        ],
      ];
      for (const [name, query] of operations) {
        const used = Object.fromEntries(Object.entries(ids).filter(([key]) => query.includes(`$${key}`)));
        const answer = await graphql(url(), query, used, owner.accessToken);
        expect([name, answer.errors?.[0]?.extensions?.code]).toEqual([name, "NOT_FOUND"]);
      }
      const joinInApp = await graphql(
        url(),
        `mutation ($code: String!) { joinServerByInvite(input: { code: $code }) { server { id } } }`,
        { code: inApp },
        guest.accessToken,
      );
      expect(joinInApp.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
      expect(
        (await as<{ myInvites: unknown[] }>(guest.accessToken, `{ myInvites { code } }`)).myInvites,
      ).toEqual([]);
      const mine = await as<{ myServers: Array<{ id: string }> }>(member.accessToken, `{ myServers { id } }`);
      expect(mine.myServers.map((s) => s.id)).not.toContain(serverId);
      const found = await as<{ discoverServers: { edges: unknown[] } }>(
        member.accessToken,
        `{ discoverServers(query: "ephemeral zx") { edges { cursor } } }`,
      );
      expect(found.discoverServers.edges).toEqual([]);
      const image = await fetch(`${url()}${picturePath}`, {
        headers: { authorization: `Bearer ${owner.accessToken}` },
      });
      expect(image.status).toBe(404);
    });
  });
}
