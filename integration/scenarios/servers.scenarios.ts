import { describe, expect, it } from "vitest";
import { dataOf, type GraphqlResponse, graphql } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const VIEW_CHANNEL = 1n << 10n;

const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id name public ownerId memberCount } } }`;
const SERVER = `query ($id: ID!) { server(id: $id) {
  id name memberCount myPermissions
  channels { id name type parentId overwrites { targetType targetId allow deny } }
  roles { id name position everyone permissions }
  members { userId owner roleIds }
} }`;
const MY_SERVERS = `{ myServers { id } }`;
const JOIN = `mutation ($input: ServerIdInput!) { joinServer(input: $input) { server { id memberCount } } }`;
const CREATE_CHANNEL = `mutation ($input: CreateChannelInput!) { createChannel(input: $input) { channel { id name type } } }`;
const CREATE_ROLE = `mutation ($input: CreateRoleInput!) { createRole(input: $input) { role { id position } } }`;
const ASSIGN_ROLE = `mutation ($input: MemberRoleInput!) { assignRole(input: $input) { member { userId roleIds } } }`;
const SET_OVERWRITE = `mutation ($input: SetChannelOverwriteInput!) { setChannelOverwrite(input: $input) { channel { id overwrites { targetType targetId allow deny } } } }`;
const CREATE_INVITE = `mutation ($input: CreateInviteInput!) { createInvite(input: $input) { invite { code maxUses uses expiresAt } } }`;
const REVOKE_INVITE = `mutation ($input: RevokeInviteInput!) { revokeInvite(input: $input) { invite { code revoked } } }`;
const JOIN_BY_INVITE = `mutation ($input: JoinServerByInviteInput!) { joinServerByInvite(input: $input) { server { id } } }`;
const KICK = `mutation ($input: KickMemberInput!) { kickMember(input: $input) { userId } }`;
const MY_PERMISSIONS = `query ($serverId: ID!, $channelId: ID) { myPermissions(serverId: $serverId, channelId: $channelId) }`;

type ServerData = {
  id: string;
  name: string;
  memberCount: number;
  myPermissions: string;
  channels: Array<{ id: string; name: string; type: string; parentId: string | null; overwrites: unknown[] }>;
  roles: Array<{ id: string; name: string; position: number; everyone: boolean; permissions: string }>;
  members: Array<{ userId: string; owner: boolean; roleIds: string[] }>;
};

const codeOf = (response: GraphqlResponse<unknown>) => response.errors?.[0]?.extensions?.code;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Servers, invites, channels, roles and overwrites through the gateway; run unchanged against every topology. */
export function defineServersScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;

  async function createServer(token: string, name: string, isPublic: boolean) {
    const data = dataOf(
      await graphql<{ createServer: { server: { id: string; ownerId: string } } }>(
        url(),
        CREATE_SERVER,
        { input: { name, description: "made by a test", public: isPublic } },
        token,
      ),
    );
    return data.createServer.server;
  }

  const serverAs = async (token: string, id: string) =>
    dataOf(await graphql<{ server: ServerData }>(url(), SERVER, { id }, token)).server;

  describe("servers", () => {
    it("creates a server: the owner sees #general, @everyone exists, the server is in myServers", async () => {
      const owner = await signedInUser(url());
      const created = await createServer(owner.accessToken, "Analytical Engine", false);
      expect(created.ownerId).toBe(owner.user.id);
      const server = await serverAs(owner.accessToken, created.id);
      expect(server.channels.map((c) => [c.name, c.type, c.parentId])).toEqual([["general", "TEXT", null]]);
      expect(server.roles).toEqual([
        expect.objectContaining({ id: created.id, name: "@everyone", everyone: true, position: 0 }),
      ]);
      expect(server.members).toEqual([{ userId: owner.user.id, owner: true, roleIds: [] }]);
      const manage = (1n << 5n) | (1n << 4n) | (1n << 28n); // MANAGE_GUILD, MANAGE_CHANNELS, MANAGE_ROLES
      expect(BigInt(server.myPermissions) & manage).toBe(manage); // the owner has every bit
      const mine = dataOf(
        await graphql<{ myServers: Array<{ id: string }> }>(url(), MY_SERVERS, {}, owner.accessToken),
      );
      expect(mine.myServers.map((s) => s.id)).toContain(created.id);
    });

    it("refuses a signed-out session's token, although it has not expired", async () => {
      const owner = await signedInUser(url());
      await createServer(owner.accessToken, "Difference Engine", true);
      dataOf(await graphql(url(), `mutation { signOut { sessionId } }`, {}, owner.accessToken));
      // servers learns of the revocation from the bus: give it a moment, never a silent pass.
      const deadline = Date.now() + 5_000;
      let code: unknown;
      while (Date.now() < deadline) {
        code = (await graphql(url(), MY_SERVERS, {}, owner.accessToken)).errors?.[0]?.extensions?.code;
        if (code === "UNAUTHENTICATED") break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(code).toBe("UNAUTHENTICATED");
    });

    it("lets another user join a public server, who then cannot create channels or roles", async () => {
      const owner = await signedInUser(url());
      const guest = await signedInUser(url());
      const created = await createServer(owner.accessToken, "Open house", true);
      const joined = dataOf(
        await graphql<{ joinServer: { server: { memberCount: number } } }>(
          url(),
          JOIN,
          { input: { serverId: created.id } },
          guest.accessToken,
        ),
      );
      expect(joined.joinServer.server.memberCount).toBe(2);
      const guestView = await serverAs(guest.accessToken, created.id);
      expect(guestView.channels.map((c) => c.name)).toEqual(["general"]);
      const channel = await graphql(
        url(),
        CREATE_CHANNEL,
        { input: { serverId: created.id, name: "mine" } },
        guest.accessToken,
      );
      expect(codeOf(channel)).toBe("FORBIDDEN");
      const role = await graphql(
        url(),
        CREATE_ROLE,
        { input: { serverId: created.id, name: "boss" } },
        guest.accessToken,
      );
      expect(codeOf(role)).toBe("FORBIDDEN");
      expect((await serverAs(owner.accessToken, created.id)).channels.map((c) => c.name)).toEqual([
        "general",
      ]);
    });

    it("invites to a private server; expired, used-up and revoked invites are refused", async () => {
      const owner = await signedInUser(url());
      const [first, second, third] = [
        await signedInUser(url()),
        await signedInUser(url()),
        await signedInUser(url()),
      ];
      const created = await createServer(owner.accessToken, "Members only", false);
      expect(codeOf(await graphql(url(), JOIN, { input: { serverId: created.id } }, first.accessToken))).toBe(
        "NOT_FOUND",
      );
      const invite = async (input: Record<string, unknown>) =>
        dataOf(
          await graphql<{ createInvite: { invite: { code: string } } }>(
            url(),
            CREATE_INVITE,
            { input: { serverId: created.id, ...input } },
            owner.accessToken,
          ),
        ).createInvite.invite.code;
      const join = (code: string, token: string) =>
        graphql(url(), JOIN_BY_INVITE, { input: { code } }, token);

      const once = await invite({ maxUses: 1 });
      expect(dataOf(await join(once, first.accessToken))).toEqual({
        joinServerByInvite: { server: { id: created.id } },
      });
      expect(codeOf(await join(once, second.accessToken))).toBe("NOT_FOUND"); // used up
      const short = await invite({ maxAgeSeconds: 1 });
      await pause(1_200);
      expect(codeOf(await join(short, second.accessToken))).toBe("NOT_FOUND"); // expired
      const revoked = await invite({});
      dataOf(
        await graphql(
          url(),
          REVOKE_INVITE,
          { input: { serverId: created.id, code: revoked } },
          owner.accessToken,
        ),
      );
      expect(codeOf(await join(revoked, third.accessToken))).toBe("NOT_FOUND");
      // A plain member of a private server may not invite (SRV-4).
      const memberInvite = await graphql(
        url(),
        CREATE_INVITE,
        { input: { serverId: created.id } },
        first.accessToken,
      );
      expect(codeOf(memberInvite)).toBe("FORBIDDEN");
      const members = (await serverAs(owner.accessToken, created.id)).members.map((m) => m.userId);
      expect(members.sort()).toEqual([owner.user.id, first.user.id].sort());
      expect(codeOf(await graphql(url(), SERVER, { id: created.id }, second.accessToken))).toBe("NOT_FOUND");
    });

    it("hides a private channel from @everyone and shows it to a role holder; kick removes access", async () => {
      const owner = await signedInUser(url());
      const member = await signedInUser(url());
      const trusted = await signedInUser(url());
      const created = await createServer(owner.accessToken, "Staff room", true);
      for (const user of [member, trusted]) {
        dataOf(await graphql(url(), JOIN, { input: { serverId: created.id } }, user.accessToken));
      }
      const staff = dataOf(
        await graphql<{ createChannel: { channel: { id: string } } }>(
          url(),
          CREATE_CHANNEL,
          { input: { serverId: created.id, name: "staff", type: "TEXT" } },
          owner.accessToken,
        ),
      ).createChannel.channel;
      const role = dataOf(
        await graphql<{ createRole: { role: { id: string } } }>(
          url(),
          CREATE_ROLE,
          { input: { serverId: created.id, name: "staff" } },
          owner.accessToken,
        ),
      ).createRole.role;
      const overwrite = (targetId: string, bits: { allow?: string; deny?: string }) =>
        graphql(
          url(),
          SET_OVERWRITE,
          { input: { channelId: staff.id, targetType: "ROLE", targetId, ...bits } },
          owner.accessToken,
        );
      dataOf(await overwrite(created.id, { deny: String(VIEW_CHANNEL) }));
      dataOf(await overwrite(role.id, { allow: String(VIEW_CHANNEL) }));
      dataOf(
        await graphql(
          url(),
          ASSIGN_ROLE,
          { input: { serverId: created.id, roleId: role.id, userId: trusted.user.id } },
          owner.accessToken,
        ),
      );
      const names = async (token: string) => (await serverAs(token, created.id)).channels.map((c) => c.name);
      expect(await names(member.accessToken)).toEqual(["general"]);
      expect(await names(trusted.accessToken)).toEqual(["general", "staff"]);
      const hidden = await graphql(
        url(),
        MY_PERMISSIONS,
        { serverId: created.id, channelId: staff.id },
        member.accessToken,
      );
      expect(codeOf(hidden)).toBe("NOT_FOUND");
      const seen = dataOf(
        await graphql<{ myPermissions: string }>(
          url(),
          MY_PERMISSIONS,
          { serverId: created.id, channelId: staff.id },
          trusted.accessToken,
        ),
      );
      expect(BigInt(seen.myPermissions) & VIEW_CHANNEL).toBe(VIEW_CHANNEL);

      dataOf(
        await graphql(
          url(),
          KICK,
          { input: { serverId: created.id, userId: trusted.user.id, reason: "test" } },
          owner.accessToken,
        ),
      );
      expect(
        codeOf(
          await graphql(
            url(),
            MY_PERMISSIONS,
            { serverId: created.id, channelId: staff.id },
            trusted.accessToken,
          ),
        ),
      ).toBe("NOT_FOUND");
      const mine = dataOf(
        await graphql<{ myServers: Array<{ id: string }> }>(url(), MY_SERVERS, {}, trusted.accessToken),
      );
      expect(mine.myServers.map((s) => s.id)).not.toContain(created.id);
    });

    it("answers NOT_FOUND to a non-member for every mutation that takes an id, and nothing changes", async () => {
      const owner = await signedInUser(url());
      const stranger = await signedInUser(url());
      const created = await createServer(owner.accessToken, "Fort Knox", false);
      const before = await serverAs(owner.accessToken, created.id);
      const general = before.channels[0]?.id ?? "";
      const serverId = created.id;
      const attempts: Array<[string, string, Record<string, unknown>]> = [
        [
          "updateServer",
          `mutation ($input: UpdateServerInput!) { updateServer(input: $input) { server { id } } }`,
          { serverId, name: "Pwned" },
        ],
        [
          "deleteServer",
          `mutation ($input: ServerIdInput!) { deleteServer(input: $input) { serverId } }`,
          { serverId },
        ],
        [
          "transferServerOwnership",
          `mutation ($input: TransferServerOwnershipInput!) { transferServerOwnership(input: $input) { server { id } } }`,
          { serverId, userId: stranger.user.id },
        ],
        ["joinServer", JOIN, { serverId }],
        [
          "leaveServer",
          `mutation ($input: ServerIdInput!) { leaveServer(input: $input) { serverId } }`,
          { serverId },
        ],
        ["kickMember", KICK, { serverId, userId: owner.user.id }],
        ["createInvite", CREATE_INVITE, { serverId }],
        ["revokeInvite", REVOKE_INVITE, { serverId, code: "whatever" }],
        ["createChannel", CREATE_CHANNEL, { serverId, name: "pwned" }],
        [
          "updateChannel",
          `mutation ($input: UpdateChannelInput!) { updateChannel(input: $input) { channel { id } } }`,
          { channelId: general, name: "pwned" },
        ],
        [
          "deleteChannel",
          `mutation ($input: DeleteChannelInput!) { deleteChannel(input: $input) { channelIds } }`,
          { channelId: general },
        ],
        ["createRole", CREATE_ROLE, { serverId, name: "pwned" }],
        [
          "updateRole",
          `mutation ($input: UpdateRoleInput!) { updateRole(input: $input) { role { id } } }`,
          { serverId, roleId: serverId, permissions: "8" },
        ],
        [
          "deleteRole",
          `mutation ($input: DeleteRoleInput!) { deleteRole(input: $input) { roleId } }`,
          { serverId, roleId: serverId },
        ],
        ["assignRole", ASSIGN_ROLE, { serverId, roleId: serverId, userId: stranger.user.id }],
        [
          "removeRole",
          `mutation ($input: MemberRoleInput!) { removeRole(input: $input) { member { userId } } }`,
          { serverId, roleId: serverId, userId: owner.user.id },
        ],
        [
          "setChannelOverwrite",
          SET_OVERWRITE,
          {
            channelId: general,
            targetType: "MEMBER",
            targetId: stranger.user.id,
            allow: String(VIEW_CHANNEL),
          },
        ],
        [
          "deleteChannelOverwrite",
          `mutation ($input: DeleteChannelOverwriteInput!) { deleteChannelOverwrite(input: $input) { channel { id } } }`,
          { channelId: general, targetType: "ROLE", targetId: serverId },
        ],
      ];
      const codes: Record<string, unknown> = {};
      for (const [name, query, input] of attempts) {
        codes[name] = codeOf(await graphql(url(), query, { input }, stranger.accessToken));
      }
      expect(codes).toEqual(Object.fromEntries(attempts.map(([name]) => [name, "NOT_FOUND"])));
      for (const query of [
        [SERVER, { id: serverId }],
        [`query ($serverId: ID!) { invites(serverId: $serverId) { code } }`, { serverId }],
        [MY_PERMISSIONS, { serverId }],
      ] as const) {
        expect(codeOf(await graphql(url(), query[0], query[1], stranger.accessToken))).toBe("NOT_FOUND");
      }
      expect(await serverAs(owner.accessToken, created.id)).toEqual(before);
    });
  });
}
