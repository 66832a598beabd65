import { describe, expect, it } from "vitest";
import { dataOf, graphql } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id } } }`;
const SEND = `mutation ($input: SendServerInviteInput!) { sendServerInvite(input: $input) { invite { code serverId serverName inviterId recipientId expiresAt } } }`;
const MY_INVITES = `{ myInvites { code serverId serverName inviterId } }`;
const DECLINE = `mutation ($input: DeclineInviteInput!) { declineInvite(input: $input) { code } }`;
const JOIN_BY_INVITE = `mutation ($input: JoinServerByInviteInput!) { joinServerByInvite(input: $input) { server { id memberCount } } }`;

/** In-app invites (SRV-3) through the gateway, in every topology. */
export function defineInAppInvitesScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;

  describe("in-app invites", () => {
    it("a user invited in the app sees the invite, accepts it by code; another declines theirs", async () => {
      const owner = await signedInUser(url());
      const [ada, bob, eve] = [
        await signedInUser(url()),
        await signedInUser(url()),
        await signedInUser(url()),
      ];
      const serverId = dataOf(
        await graphql<{ createServer: { server: { id: string } } }>(
          url(),
          CREATE_SERVER,
          { input: { name: "Invite only", public: false } },
          owner.accessToken,
        ),
      ).createServer.server.id;
      const send = async (userId: string) =>
        dataOf(
          await graphql<{ sendServerInvite: { invite: { code: string; expiresAt: string } } }>(
            url(),
            SEND,
            { input: { serverId, userId } },
            owner.accessToken,
          ),
        ).sendServerInvite.invite;
      const toAda = await send(ada.user.id);
      const toBob = await send(bob.user.id);
      expect(toAda.expiresAt).toBeTruthy();
      const mine = async (token: string) =>
        dataOf(
          await graphql<{ myInvites: Array<{ code: string; serverName: string }> }>(
            url(),
            MY_INVITES,
            {},
            token,
          ),
        ).myInvites;
      expect(await mine(ada.accessToken)).toEqual([
        { code: toAda.code, serverId, serverName: "Invite only", inviterId: owner.user.id },
      ]);
      // Not Eve's to use.
      const stolen = await graphql(url(), JOIN_BY_INVITE, { input: { code: toAda.code } }, eve.accessToken);
      expect(stolen.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
      const joined = dataOf(
        await graphql<{ joinServerByInvite: { server: { id: string; memberCount: number } } }>(
          url(),
          JOIN_BY_INVITE,
          { input: { code: toAda.code } },
          ada.accessToken,
        ),
      ).joinServerByInvite.server;
      expect(joined).toEqual({ id: serverId, memberCount: 2 });
      expect(await mine(ada.accessToken)).toEqual([]);

      dataOf(await graphql(url(), DECLINE, { input: { code: toBob.code } }, bob.accessToken));
      expect(await mine(bob.accessToken)).toEqual([]);
      const late = await graphql(url(), JOIN_BY_INVITE, { input: { code: toBob.code } }, bob.accessToken);
      expect(late.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");

      const byMember = await graphql(
        url(),
        SEND,
        { input: { serverId, userId: eve.user.id } },
        ada.accessToken,
      );
      expect(byMember.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      const byStranger = await graphql(
        url(),
        SEND,
        { input: { serverId, userId: bob.user.id } },
        eve.accessToken,
      );
      expect(byStranger.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    });
  });
}
