import { describe, expect, it } from "vitest";
import { dataOf, graphql } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id } } }`;
const CREATE_INVITE = `mutation ($input: CreateInviteInput!) { createInvite(input: $input) { invite { code } } }`;
const INVITES = `query ($serverId: ID!) { invites(serverId: $serverId) { code } }`;
/** config `servers.invitesPerUserPerHour` default; the test deployments keep it. */
const INVITES_PER_HOUR = 50;

/** Limits against abuse (SRV-8) through the gateway, in every topology. */
export function defineServerLimitsScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;

  describe("server limits", () => {
    it("refuses the invite past the hourly budget with RATE_LIMITED and retryAfterMs, creating nothing", async () => {
      const owner = await signedInUser(url());
      const serverId = dataOf(
        await graphql<{ createServer: { server: { id: string } } }>(
          url(),
          CREATE_SERVER,
          { input: { name: "Busy", public: true } },
          owner.accessToken,
        ),
      ).createServer.server.id;
      const invite = () => graphql(url(), CREATE_INVITE, { input: { serverId } }, owner.accessToken);
      for (let i = 0; i < INVITES_PER_HOUR; i += 1) dataOf(await invite());
      const refused = await invite();
      expect(refused.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
      expect(refused.errors?.[0]?.extensions?.retryAfterMs).toBeGreaterThan(3_000_000);
      const listed = dataOf(
        await graphql<{ invites: unknown[] }>(url(), INVITES, { serverId }, owner.accessToken),
      ).invites;
      expect(listed).toHaveLength(INVITES_PER_HOUR);
    });
  });
}
