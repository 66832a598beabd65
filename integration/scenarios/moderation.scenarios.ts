import { describe, expect, it } from "vitest";
import { dataOf, type GraphqlResponse, graphql } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const VIEW_CHANNEL = 1n << 10n;
const READ_MESSAGE_HISTORY = 1n << 16n;
const SEND_MESSAGES = 1n << 11n;
const BAN_MEMBERS = 1n << 2n;
const VIEW_AUDIT_LOG = 1n << 7n;
const MODERATE_MEMBERS = 1n << 40n;

const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id } } }`;
const JOIN = `mutation ($input: ServerIdInput!) { joinServer(input: $input) { server { id } } }`;
const SERVER = `query ($id: ID!) { server(id: $id) { id channels { id } } }`;
const CREATE_ROLE = `mutation ($input: CreateRoleInput!) { createRole(input: $input) { role { id } } }`;
const ASSIGN_ROLE = `mutation ($input: MemberRoleInput!) { assignRole(input: $input) { member { userId } } }`;
const CREATE_INVITE = `mutation ($input: CreateInviteInput!) { createInvite(input: $input) { invite { code } } }`;
const JOIN_BY_INVITE = `mutation ($input: JoinServerByInviteInput!) { joinServerByInvite(input: $input) { server { id } } }`;
const MY_PERMISSIONS = `query ($serverId: ID!, $channelId: ID) { myPermissions(serverId: $serverId, channelId: $channelId) }`;
const BAN = `mutation ($input: BanMemberInput!) { banMember(input: $input) { ban { userId actorId reason } } }`;
const UNBAN = `mutation ($input: UnbanMemberInput!) { unbanMember(input: $input) { userId } }`;
const BANS = `query ($serverId: ID!) { bans(serverId: $serverId) { userId reason } }`;
const TIMEOUT = `mutation ($input: TimeoutMemberInput!) { timeoutMember(input: $input) { userId timedOutUntil } }`;
const CLEAR_TIMEOUT = `mutation ($input: ClearMemberTimeoutInput!) { clearMemberTimeout(input: $input) { userId timedOutUntil } }`;
const AUDIT_LOG = `query ($serverId: ID!, $before: ID, $limit: Int, $action: AuditLogAction) {
  auditLog(serverId: $serverId, before: $before, limit: $limit, action: $action) {
    entries { id actorId action targetType targetId reason changes }
    nextCursor
  } }`;

const codeOf = (response: GraphqlResponse<unknown>) => response.errors?.[0]?.extensions?.code;

type User = Awaited<ReturnType<typeof signedInUser>>;

/** Bans, timeouts and the audit log through the gateway; run unchanged against every topology. */
export function defineModerationScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;
  const gql = (query: string, variables: Record<string, unknown>, who: User) =>
    graphql<Record<string, never>>(url(), query, variables, who.accessToken);

  /** A public server: owner, a moderator with `bits` in a role, a peer holding the same role, and a member. */
  async function community(bits: bigint) {
    const [owner, mod, peer, member] = [
      await signedInUser(url()),
      await signedInUser(url()),
      await signedInUser(url()),
      await signedInUser(url()),
    ];
    const serverId = (
      dataOf(await gql(CREATE_SERVER, { input: { name: "Moderated", public: true } }, owner)) as unknown as {
        createServer: { server: { id: string } };
      }
    ).createServer.server.id;
    for (const user of [mod, peer, member]) dataOf(await gql(JOIN, { input: { serverId } }, user));
    const roleId = (
      dataOf(
        await gql(CREATE_ROLE, { input: { serverId, name: "mods", permissions: String(bits) } }, owner),
      ) as unknown as { createRole: { role: { id: string } } }
    ).createRole.role.id;
    for (const user of [mod, peer]) {
      dataOf(await gql(ASSIGN_ROLE, { input: { serverId, roleId, userId: user.user.id } }, owner));
    }
    return { owner, mod, peer, member, serverId, roleId };
  }

  describe("moderation", () => {
    it("bans: the banned user loses the server and cannot rejoin until unbanned", async () => {
      const { owner, mod, member, serverId } = await community(BAN_MEMBERS);
      const code = (
        dataOf(await gql(CREATE_INVITE, { input: { serverId } }, owner)) as unknown as {
          createInvite: { invite: { code: string } };
        }
      ).createInvite.invite.code;
      const banned = dataOf(
        await gql(BAN, { input: { serverId, userId: member.user.id, reason: "spam" } }, mod),
      ) as unknown as { banMember: { ban: { userId: string; actorId: string; reason: string } } };
      expect(banned.banMember.ban).toEqual({ userId: member.user.id, actorId: mod.user.id, reason: "spam" });
      expect(codeOf(await gql(SERVER, { id: serverId }, member))).toBe("NOT_FOUND");
      expect(codeOf(await gql(MY_PERMISSIONS, { serverId }, member))).toBe("NOT_FOUND");
      expect(codeOf(await gql(JOIN, { input: { serverId } }, member))).toBe("FORBIDDEN");
      expect(codeOf(await gql(JOIN_BY_INVITE, { input: { code } }, member))).toBe("FORBIDDEN");
      expect(dataOf(await gql(BANS, { serverId }, mod))).toEqual({
        bans: [{ userId: member.user.id, reason: "spam" }],
      });

      dataOf(await gql(UNBAN, { input: { serverId, userId: member.user.id } }, mod));
      expect(dataOf(await gql(JOIN_BY_INVITE, { input: { code } }, member))).toEqual({
        joinServerByInvite: { server: { id: serverId } },
      });
      expect(codeOf(await gql(SERVER, { id: serverId }, member))).toBeUndefined();
    });

    it("a moderator cannot ban someone at or above their highest role, nor the owner", async () => {
      const { owner, mod, peer, member, serverId } = await community(BAN_MEMBERS);
      const ban = (who: User, target: User) => gql(BAN, { input: { serverId, userId: target.user.id } }, who);
      expect(codeOf(await ban(mod, peer))).toBe("FORBIDDEN");
      expect(codeOf(await ban(mod, owner))).toBe("FORBIDDEN");
      expect(codeOf(await ban(member, peer))).toBe("FORBIDDEN");
      // Both are still there.
      expect(codeOf(await gql(SERVER, { id: serverId }, peer))).toBeUndefined();
    });

    it("timeout leaves only VIEW_CHANNEL | READ_MESSAGE_HISTORY and blocks invites; clearing restores", async () => {
      const { mod, member, serverId } = await community(MODERATE_MEMBERS);
      const channelId = (
        dataOf(await gql(SERVER, { id: serverId }, member)) as unknown as {
          server: { channels: Array<{ id: string }> };
        }
      ).server.channels[0]?.id;
      const permissions = async (channel?: string) =>
        BigInt(
          (
            dataOf(await gql(MY_PERMISSIONS, { serverId, channelId: channel }, member)) as unknown as {
              myPermissions: string;
            }
          ).myPermissions,
        );
      const before = await permissions(channelId);
      expect(before & SEND_MESSAGES).toBe(SEND_MESSAGES);
      const until = new Date(Date.now() + 3600_000).toISOString();
      const timedOut = dataOf(
        await gql(TIMEOUT, { input: { serverId, userId: member.user.id, until, reason: "cool off" } }, mod),
      ) as unknown as { timeoutMember: { timedOutUntil: string } };
      expect(new Date(timedOut.timeoutMember.timedOutUntil).toISOString()).toBe(until);
      expect(await permissions(channelId)).toBe(VIEW_CHANNEL | READ_MESSAGE_HISTORY);
      expect(await permissions()).toBe(VIEW_CHANNEL | READ_MESSAGE_HISTORY);
      expect(codeOf(await gql(CREATE_INVITE, { input: { serverId } }, member))).toBe("FORBIDDEN");

      const cleared = dataOf(
        await gql(CLEAR_TIMEOUT, { input: { serverId, userId: member.user.id } }, mod),
      ) as unknown as { clearMemberTimeout: { timedOutUntil: string | null } };
      expect(cleared.clearMemberTimeout.timedOutUntil).toBeNull();
      expect(await permissions(channelId)).toBe(before);
      expect(codeOf(await gql(CREATE_INVITE, { input: { serverId } }, member))).toBeUndefined();
    });

    it("the audit log lists actions with actor, target and reason, newest first; others are refused", async () => {
      const { owner, mod, member, serverId } = await community(
        BAN_MEMBERS | MODERATE_MEMBERS | VIEW_AUDIT_LOG,
      );
      const until = new Date(Date.now() + 600_000).toISOString();
      dataOf(await gql(TIMEOUT, { input: { serverId, userId: member.user.id, until, reason: "r1" } }, mod));
      dataOf(await gql(CLEAR_TIMEOUT, { input: { serverId, userId: member.user.id, reason: "r2" } }, mod));
      dataOf(await gql(BAN, { input: { serverId, userId: member.user.id, reason: "r3" } }, mod));
      dataOf(await gql(UNBAN, { input: { serverId, userId: member.user.id, reason: "r4" } }, owner));

      type Page = {
        auditLog: {
          entries: Array<{ id: string; actorId: string; action: string; targetId: string; reason: string }>;
          nextCursor: string | null;
        };
      };
      const page = (dataOf(await gql(AUDIT_LOG, { serverId, limit: 4 }, mod)) as unknown as Page).auditLog;
      expect(page.entries.map((e) => [e.action, e.actorId, e.targetId, e.reason])).toEqual([
        ["MEMBER_BAN_REMOVE", owner.user.id, member.user.id, "r4"],
        ["MEMBER_BAN_ADD", mod.user.id, member.user.id, "r3"],
        ["MEMBER_TIMEOUT_CLEAR", mod.user.id, member.user.id, "r2"],
        ["MEMBER_TIMEOUT", mod.user.id, member.user.id, "r1"],
      ]);
      const next = (
        dataOf(await gql(AUDIT_LOG, { serverId, before: page.nextCursor }, mod)) as unknown as Page
      ).auditLog;
      expect(next.entries.map((e) => e.action)).toEqual([
        "MEMBER_ROLE_ADD",
        "MEMBER_ROLE_ADD",
        "ROLE_CREATE",
      ]);
      const bans = (
        dataOf(await gql(AUDIT_LOG, { serverId, action: "MEMBER_BAN_ADD" }, owner)) as unknown as Page
      ).auditLog;
      expect(bans.entries.map((e) => e.reason)).toEqual(["r3"]);

      const plain = await signedInUser(url());
      dataOf(await gql(JOIN, { input: { serverId } }, plain));
      expect(codeOf(await gql(AUDIT_LOG, { serverId }, plain))).toBe("FORBIDDEN");
      const stranger = await signedInUser(url());
      expect(codeOf(await gql(AUDIT_LOG, { serverId }, stranger))).toBe("NOT_FOUND");
    });
  });
}
