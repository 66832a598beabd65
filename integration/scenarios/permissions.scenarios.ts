import { describe, expect, it } from "vitest";
import { dataOf, type GraphqlResponse, graphql } from "../harness/graphql-client.ts";
import { SPLIT_INTERNAL_TOKEN, type Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const P = {
  VIEW_CHANNEL: 1n << 10n,
  SEND_MESSAGES: 1n << 11n,
  MANAGE_MESSAGES: 1n << 13n,
  ATTACH_FILES: 1n << 15n,
  KICK_MEMBERS: 1n << 1n,
};

const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id } } }`;
const JOIN = `mutation ($input: ServerIdInput!) { joinServer(input: $input) { server { id } } }`;
const CHANNELS = `query ($id: ID!) { server(id: $id) { channels { id name } } }`;
const CREATE_ROLE = `mutation ($input: CreateRoleInput!) { createRole(input: $input) { role { id } } }`;
const UPDATE_ROLE = `mutation ($input: UpdateRoleInput!) { updateRole(input: $input) { role { id } } }`;
const ASSIGN_ROLE = `mutation ($input: MemberRoleInput!) { assignRole(input: $input) { member { userId } } }`;
const REMOVE_ROLE = `mutation ($input: MemberRoleInput!) { removeRole(input: $input) { member { userId } } }`;
const SET_OVERWRITE = `mutation ($input: SetChannelOverwriteInput!) { setChannelOverwrite(input: $input) { channel { id } } }`;
const EXPLAIN = `query ($serverId: ID!, $channelId: ID!, $userId: ID) {
  explainPermissions(serverId: $serverId, channelId: $channelId, userId: $userId) {
    userId permissions permissionNames
    steps { kind source { id name } set setNames cleared clearedNames after reason }
  }
}`;
const DRY_RUN = `query ($serverId: ID!, $channelId: ID!, $targetType: OverwriteTargetType!, $targetId: ID!, $allow: Permissions, $deny: Permissions) {
  dryRunOverwrite(serverId: $serverId, channelId: $channelId, targetType: $targetType, targetId: $targetId, allow: $allow, deny: $deny) {
    changes { permission bit gained lost } membersChecked truncated
  }
}`;

type Step = {
  kind: string;
  source: { id: string; name: string | null } | null;
  set: string;
  setNames: string[];
  cleared: string;
  clearedNames: string[];
  after: string;
  reason: string;
};
type Explanation = { userId: string; permissions: string; permissionNames: string[]; steps: Step[] };
type DryRun = {
  changes: Array<{ permission: string; bit: string; gained: string[]; lost: string[] }>;
  membersChecked: number;
  truncated: boolean;
};

const codeOf = (response: GraphqlResponse<unknown>) => response.errors?.[0]?.extensions?.code;

/** ROLE-6 explanations and overwrite dry-runs through the gateway, and the internal-only check RPCs. */
export function definePermissionsScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;
  const ok = async <T>(query: string, variables: Record<string, unknown>, token: string) =>
    dataOf(await graphql<T>(url(), query, variables, token));

  /** Owner, a member holding "mods" (MANAGE_MESSAGES), #general where @everyone loses ATTACH_FILES and mods regain it. */
  async function scene() {
    const owner = await signedInUser(url());
    const member = await signedInUser(url());
    const serverId = (
      await ok<{ createServer: { server: { id: string } } }>(
        CREATE_SERVER,
        { input: { name: "Explain lab", description: "", public: true } },
        owner.accessToken,
      )
    ).createServer.server.id;
    await ok(JOIN, { input: { serverId } }, member.accessToken);
    const channels = await ok<{ server: { channels: Array<{ id: string }> } }>(
      CHANNELS,
      { id: serverId },
      owner.accessToken,
    );
    const channelId = channels.server.channels[0]?.id ?? "";
    const modsId = (
      await ok<{ createRole: { role: { id: string } } }>(
        CREATE_ROLE,
        { input: { serverId, name: "mods", permissions: String(P.MANAGE_MESSAGES) } },
        owner.accessToken,
      )
    ).createRole.role.id;
    await ok(ASSIGN_ROLE, { input: { serverId, roleId: modsId, userId: member.user.id } }, owner.accessToken);
    const overwrite = (targetId: string, allow: bigint, deny: bigint) =>
      ok(
        SET_OVERWRITE,
        { input: { channelId, targetType: "ROLE", targetId, allow: String(allow), deny: String(deny) } },
        owner.accessToken,
      );
    await overwrite(serverId, 0n, P.ATTACH_FILES);
    await overwrite(modsId, P.ATTACH_FILES, 0n);
    return { owner, member, serverId, channelId, modsId };
  }

  describe("permissions", () => {
    it("explains a member's permissions step by step, with names, to them and to a role manager only", async () => {
      const { owner, member, serverId, channelId, modsId } = await scene();
      const explain = (token: string, userId?: string) =>
        graphql<{ explainPermissions: Explanation }>(url(), EXPLAIN, { serverId, channelId, userId }, token);

      const seen = dataOf(await explain(owner.accessToken, member.user.id)).explainPermissions;
      expect(seen.userId).toBe(member.user.id);
      expect(seen.steps.map((step) => [step.kind, step.source?.name ?? null])).toEqual([
        ["EVERYONE_ROLE", "@everyone"],
        ["ROLE", "mods"],
        ["EVERYONE_OVERWRITE_DENY", "@everyone"],
        ["ROLE_OVERWRITE_ALLOW", "mods"],
      ]);
      expect(seen.steps[1]?.setNames).toEqual(["MANAGE_MESSAGES"]);
      expect(seen.steps[2]?.clearedNames).toEqual(["ATTACH_FILES"]);
      expect(seen.steps[3]).toMatchObject({ source: { id: modsId }, setNames: ["ATTACH_FILES"] });
      expect(seen.permissionNames).toEqual(expect.arrayContaining(["VIEW_CHANNEL", "ATTACH_FILES"]));
      expect(seen.steps.at(-1)?.after).toBe(seen.permissions);

      // The member may ask about themselves (userId defaults to the viewer) and sees the same.
      expect(dataOf(await explain(member.accessToken)).explainPermissions).toEqual(seen);
      // Without MANAGE_ROLES, nobody else; a stranger learns nothing about the server.
      expect(codeOf(await explain(member.accessToken, owner.user.id))).toBe("FORBIDDEN");
      const stranger = await signedInUser(url());
      expect(codeOf(await explain(stranger.accessToken, member.user.id))).toBe("NOT_FOUND");

      // Edits show at once: a role edit, then removing the role.
      await ok(
        UPDATE_ROLE,
        { input: { serverId, roleId: modsId, permissions: String(P.MANAGE_MESSAGES | P.KICK_MEMBERS) } },
        owner.accessToken,
      );
      const edited = dataOf(await explain(owner.accessToken, member.user.id)).explainPermissions;
      expect(edited.steps[1]?.setNames).toEqual(["KICK_MEMBERS", "MANAGE_MESSAGES"]);
      await ok(
        REMOVE_ROLE,
        { input: { serverId, roleId: modsId, userId: member.user.id } },
        owner.accessToken,
      );
      const removed = dataOf(await explain(owner.accessToken, member.user.id)).explainPermissions;
      expect(removed.steps.map((step) => step.kind)).toEqual(["EVERYONE_ROLE", "EVERYONE_OVERWRITE_DENY"]);
      expect(removed.permissionNames).not.toContain("ATTACH_FILES");
    });

    it("dry-runs an overwrite: who would lose or gain what, writing nothing", async () => {
      const { owner, member, serverId, channelId, modsId } = await scene();
      const dryRun = (token: string, variables: Record<string, unknown>) =>
        graphql<{ dryRunOverwrite: DryRun }>(url(), DRY_RUN, { serverId, channelId, ...variables }, token);

      const hide = dataOf(
        await dryRun(owner.accessToken, {
          targetType: "ROLE",
          targetId: serverId,
          deny: String(P.VIEW_CHANNEL | P.ATTACH_FILES),
        }),
      ).dryRunOverwrite;
      expect(hide.membersChecked).toBe(2);
      expect(hide.truncated).toBe(false);
      const view = hide.changes.find((change) => change.permission === "VIEW_CHANNEL");
      expect(view).toEqual({
        permission: "VIEW_CHANNEL",
        bit: String(P.VIEW_CHANNEL),
        gained: [],
        lost: [member.user.id],
      });
      expect(hide.changes.every((change) => !change.lost.includes(owner.user.id))).toBe(true);

      const unmute = dataOf(
        await dryRun(owner.accessToken, { targetType: "ROLE", targetId: modsId, allow: "0", deny: "0" }),
      ).dryRunOverwrite;
      expect(unmute.changes).toEqual([
        { permission: "ATTACH_FILES", bit: String(P.ATTACH_FILES), gained: [], lost: [member.user.id] },
      ]);

      // Nothing was written: the member still views the channel and attaches files.
      const after = dataOf(
        await graphql<{ explainPermissions: Explanation }>(
          url(),
          EXPLAIN,
          { serverId, channelId },
          member.accessToken,
        ),
      ).explainPermissions;
      expect(after.permissionNames).toEqual(expect.arrayContaining(["VIEW_CHANNEL", "ATTACH_FILES"]));
      expect(
        codeOf(await dryRun(member.accessToken, { targetType: "ROLE", targetId: serverId, deny: "1024" })),
      ).toBe("FORBIDDEN");
    });

    it("never answers the internal permission RPCs to a caller without the internal token", async () => {
      const { member, serverId, channelId } = await scene();
      const body = JSON.stringify({
        userId: member.user.id,
        serverId,
        channelId,
        required: String(P.VIEW_CHANNEL),
      });
      const servers = topology().processes.get(topology().kind === "all" ? "beep" : "servers");
      const call = (base: string, headers: Record<string, string> = {}) =>
        fetch(`${base}/beep.servers.v1.PermissionsService/CheckPermissions`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body,
        });
      for (const base of [url(), servers?.url ?? ""]) {
        const bare = await call(base);
        expect(bare.ok).toBe(false);
        expect(await bare.text()).not.toContain("allowed");
        const guessed = await call(base, { "x-beep-internal-token": "guess" });
        expect(guessed.ok).toBe(false);
        // A signed-in user's token is not enough either: these RPCs take any user id.
        const user = await call(base, { authorization: `Bearer ${member.accessToken}` });
        expect(user.ok).toBe(false);
      }
      if (topology().kind === "split") {
        const internal = await call(servers?.url ?? "", { "x-beep-internal-token": SPLIT_INTERNAL_TOKEN });
        expect(internal.status).toBe(200);
        expect(await internal.json()).toMatchObject({ allowed: true });
      }
    });
  });
}
