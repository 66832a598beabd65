import { beforeAll, describe, expect, it } from "vitest";
import { dataOf, graphql } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";
import { idTakingFields } from "./authorization-coverage.ts";
import {
  type AuthorizationFixture,
  asUser,
  buildAuthorizationFixture,
  codeOf,
  makeAdmin,
  P,
  stateOf,
  type User,
} from "./authorization-fixture.ts";
import { MESSAGES_AUTHORIZATION_MATRIX } from "./authorization-matrix.messages.ts";
import {
  defineServerPictureRouteRefusals,
  defineServersFeaturesProbeCheck,
} from "./authorization-servers-features.ts";
import { signedInUser } from "./identity.scenarios.ts";

type Variables = Record<string, unknown>;
export type Code = "NOT_FOUND" | "FORBIDDEN" | "UNAUTHENTICATED";

/**
 * Who tries, besides the stranger: `member` is a plain member (@everyone only) of the private server;
 * `rival` owns a server of their own and names this server's objects through it (an id from elsewhere
 * must be NOT_FOUND, never acted on); `banned` was banned from the server by its owner; `junior` holds
 * MANAGE_ROLES, MANAGE_CHANNELS, KICK, BAN and MODERATE_MEMBERS in a role below crew, so anything aimed at
 * crew or at its holder (target), or reserved to the owner, is FORBIDDEN to them (ROLE-4); the folder
 * only crew views is NOT_FOUND to them, and the shelf holding secret, hidden from them, is theirs to
 * delete no more than secret is (ROLE-5). `muted` holds the junior's role but is timed out, so even what
 * the junior may do to a plain member is FORBIDDEN to them (SRV-10).
 */
export type Actor = "member" | "rival" | "banned" | "junior" | "muted";

export interface Refusal {
  actor: Actor;
  code: Code;
  /** What this actor sends; the entry's variables when absent. */
  variables?: (f: AuthorizationFixture) => Variables;
}

/** One operation that names an object of a server, and who must be refused it. */
export interface MatrixEntry {
  field: string;
  /** Names the entry in the test title when a field has more than one. */
  label?: string;
  document: string;
  /**
   * What the owner would send. Every outsider sends exactly this: without a token it is UNAUTHENTICATED;
   * a stranger, and a user kicked or banned a moment ago while holding ADMINISTRATOR, get NOT_FOUND.
   */
  variables: (f: AuthorizationFixture) => Variables;
  /** Refusals of insiders and rivals, with the code the service defines for each. */
  refusals: Refusal[];
}

const inServer = (f: AuthorizationFixture) => ({ serverId: f.serverId });
const input = (build: (f: AuthorizationFixture) => Variables) => (f: AuthorizationFixture) => ({
  input: build(f),
});
const soon = () => new Date(Date.now() + 600_000).toISOString();

/**
 * Every Query and Mutation field that takes an id of a servers object. The coverage guard below fails
 * when the live schema has such a field that is neither here nor in {@link EXCLUDED_FROM_MATRIX}.
 */
export const AUTHORIZATION_MATRIX: MatrixEntry[] = [
  // Queries.
  {
    field: "server",
    document: `query ($id: ID!) { server(id: $id) { id name } }`,
    variables: (f) => ({ id: f.serverId }),
    refusals: [],
  },
  {
    field: "server",
    label: "server (the members-only fields of a public server)",
    document: `query ($id: ID!) { server(id: $id) { id channels { id } roles { id } members { userId } myPermissions } }`,
    variables: (f) => ({ id: f.rivalServerId }),
    refusals: [],
  },
  {
    field: "invites",
    document: `query ($serverId: ID!) { invites(serverId: $serverId) { code } }`,
    variables: inServer,
    refusals: [{ actor: "member", code: "FORBIDDEN" }],
  },
  {
    field: "myPermissions",
    document: `query ($serverId: ID!, $channelId: ID) { myPermissions(serverId: $serverId, channelId: $channelId) }`,
    variables: (f) => ({ serverId: f.serverId, channelId: f.secretId }),
    refusals: [
      // The member cannot view #secret; the rival names it through their own server.
      { actor: "member", code: "NOT_FOUND" },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: (f) => ({ serverId: f.rivalServerId, channelId: f.secretId }),
      },
    ],
  },
  {
    field: "searchMessages",
    document: `query ($serverId: ID!, $query: String) { searchMessages(serverId: $serverId, query: $query) { totalHits messages { id } } }`,
    variables: (f) => ({ serverId: f.serverId, query: "plan" }),
    // Searching is for members; a ban ends it at once. (Hidden channels: the entry below.)
    refusals: [{ actor: "banned", code: "NOT_FOUND" }],
  },
  {
    field: "searchMessages",
    label: "searchMessages (in a channel hidden from the caller)",
    document: `query ($serverId: ID!, $channelId: ID, $query: String) { searchMessages(serverId: $serverId, channelId: $channelId, query: $query) { totalHits messages { id } } }`,
    variables: (f) => ({ serverId: f.serverId, channelId: f.secretId, query: "plan" }),
    refusals: [
      // #secret is hidden from the member and the junior; the rival names it through their own server.
      { actor: "member", code: "NOT_FOUND" },
      { actor: "junior", code: "NOT_FOUND" },
      { actor: "banned", code: "NOT_FOUND" },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: (f) => ({ serverId: f.rivalServerId, channelId: f.secretId, query: "plan" }),
      },
    ],
  },
  {
    field: "bans",
    document: `query ($serverId: ID!) { bans(serverId: $serverId) { userId } }`,
    variables: inServer,
    refusals: [
      { actor: "muted", code: "FORBIDDEN", variables: (f) => ({ serverId: f.serverId }) },
      { actor: "member", code: "FORBIDDEN" },
    ],
  },
  {
    field: "auditLog",
    document: `query ($serverId: ID!) { auditLog(serverId: $serverId) { entries { id } } }`,
    variables: inServer,
    refusals: [{ actor: "member", code: "FORBIDDEN" }],
  },
  {
    field: "explainPermissions",
    document: `query ($serverId: ID!, $channelId: ID!, $userId: ID) {
      explainPermissions(serverId: $serverId, channelId: $channelId, userId: $userId) { permissions } }`,
    variables: (f) => ({ serverId: f.serverId, channelId: f.secretId, userId: f.target.user.id }),
    refusals: [
      {
        actor: "muted",
        code: "FORBIDDEN",
        variables: (f) => ({ serverId: f.serverId, channelId: f.generalId, userId: f.member.user.id }),
      },
      { actor: "member", code: "NOT_FOUND" },
      {
        actor: "member",
        code: "FORBIDDEN",
        variables: (f) => ({ serverId: f.serverId, channelId: f.generalId, userId: f.target.user.id }),
      },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: (f) => ({ serverId: f.rivalServerId, channelId: f.secretId, userId: f.target.user.id }),
      },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: (f) => ({
          serverId: f.rivalServerId,
          channelId: f.rivalChannelId,
          userId: f.target.user.id,
        }),
      },
    ],
  },
  {
    field: "dryRunOverwrite",
    document: `query ($serverId: ID!, $channelId: ID!, $targetType: OverwriteTargetType!, $targetId: ID!, $deny: Permissions) {
      dryRunOverwrite(serverId: $serverId, channelId: $channelId, targetType: $targetType, targetId: $targetId, deny: $deny) {
        membersChecked } }`,
    variables: (f) => ({
      serverId: f.serverId,
      channelId: f.generalId,
      targetType: "ROLE",
      targetId: f.serverId,
      deny: String(P.VIEW_CHANNEL),
    }),
    refusals: [
      {
        actor: "muted",
        code: "FORBIDDEN",
        variables: (f) => ({
          serverId: f.serverId,
          channelId: f.generalId,
          targetType: "MEMBER",
          targetId: f.member.user.id,
          deny: String(P.SEND_MESSAGES),
        }),
      },
      {
        actor: "junior",
        code: "FORBIDDEN",
        variables: (f) => ({
          serverId: f.serverId,
          channelId: f.generalId,
          targetType: "ROLE",
          targetId: f.crewRoleId,
          deny: String(P.SEND_MESSAGES),
        }),
      },
      { actor: "member", code: "FORBIDDEN" },
      {
        actor: "member",
        code: "NOT_FOUND",
        variables: (f) => ({
          serverId: f.serverId,
          channelId: f.secretId,
          targetType: "ROLE",
          targetId: f.serverId,
        }),
      },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: (f) => ({
          serverId: f.rivalServerId,
          channelId: f.rivalChannelId,
          targetType: "ROLE",
          targetId: f.crewRoleId,
        }),
      },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: (f) => ({
          serverId: f.rivalServerId,
          channelId: f.rivalChannelId,
          targetType: "MEMBER",
          targetId: f.target.user.id,
        }),
      },
    ],
  },
  {
    field: "serverMembers",
    document: `query ($serverId: ID!) { serverMembers(serverId: $serverId) { edges { node { userId } } } }`,
    variables: inServer,
    refusals: [{ actor: "banned", code: "NOT_FOUND" }],
  },
  {
    field: "serverMembers",
    label: "serverMembers (of a public server, members only)",
    document: `query ($serverId: ID!) { serverMembers(serverId: $serverId) { edges { node { userId } } } }`,
    variables: (f) => ({ serverId: f.rivalServerId }),
    refusals: [],
  },
  {
    field: "channelMembers",
    document: `query ($channelId: ID!) { channelMembers(channelId: $channelId) { edges { node { userId } } } }`,
    variables: (f) => ({ channelId: f.secretId }),
    refusals: [
      // Neither views #secret; only crew views the folder.
      { actor: "member", code: "NOT_FOUND" },
      { actor: "junior", code: "NOT_FOUND" },
      { actor: "junior", code: "NOT_FOUND", variables: (f) => ({ channelId: f.folderId }) },
      { actor: "banned", code: "NOT_FOUND", variables: (f) => ({ channelId: f.generalId }) },
    ],
  },
  {
    field: "channelMembers",
    label: "channelMembers (of a public server's channel, members only)",
    document: `query ($channelId: ID!) { channelMembers(channelId: $channelId) { edges { node { userId } } } }`,
    variables: (f) => ({ channelId: f.rivalChannelId }),
    refusals: [],
  },
  // Servers and membership.
  {
    field: "updateServer",
    document: `mutation ($input: UpdateServerInput!) { updateServer(input: $input) { server { id } } }`,
    variables: input((f) => ({ serverId: f.serverId, name: "Hijacked", public: true })),
    refusals: [
      { actor: "junior", code: "FORBIDDEN" },
      { actor: "member", code: "FORBIDDEN" },
    ],
  },
  {
    field: "deleteServer",
    document: `mutation ($input: ServerIdInput!) { deleteServer(input: $input) { serverId } }`,
    variables: input(inServer),
    refusals: [
      { actor: "junior", code: "FORBIDDEN" },
      { actor: "member", code: "FORBIDDEN" },
    ],
  },
  {
    field: "transferServerOwnership",
    document: `mutation ($input: TransferServerOwnershipInput!) { transferServerOwnership(input: $input) { server { id } } }`,
    variables: input((f) => ({ serverId: f.serverId, userId: f.member.user.id })),
    refusals: [
      { actor: "junior", code: "FORBIDDEN" },
      { actor: "member", code: "FORBIDDEN" },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: input((f) => ({ serverId: f.rivalServerId, userId: f.target.user.id })),
      },
    ],
  },
  {
    field: "joinServer",
    document: `mutation ($input: ServerIdInput!) { joinServer(input: $input) { server { id } } }`,
    variables: input(inServer),
    // A private server is not found by non-members, banned or not.
    refusals: [{ actor: "banned", code: "NOT_FOUND" }],
  },
  {
    field: "leaveServer",
    document: `mutation ($input: ServerIdInput!) { leaveServer(input: $input) { serverId } }`,
    variables: input(inServer),
    refusals: [],
  },
  {
    field: "kickMember",
    document: `mutation ($input: KickMemberInput!) { kickMember(input: $input) { userId } }`,
    variables: input((f) => ({ serverId: f.serverId, userId: f.target.user.id })),
    refusals: [
      {
        actor: "muted",
        code: "FORBIDDEN",
        variables: input((f) => ({ serverId: f.serverId, userId: f.member.user.id })),
      },
      { actor: "junior", code: "FORBIDDEN" },
      { actor: "member", code: "FORBIDDEN" },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: input((f) => ({ serverId: f.rivalServerId, userId: f.target.user.id })),
      },
    ],
  },
  {
    field: "removeServerPicture",
    document: `mutation ($input: RemoveServerPictureInput!) { removeServerPicture(input: $input) { server { id } } }`,
    variables: input((f) => ({ serverId: f.serverId, kind: "PICTURE" })),
    // MANAGE_GUILD: no moderator role here holds it.
    refusals: [
      { actor: "muted", code: "FORBIDDEN" },
      {
        actor: "junior",
        code: "FORBIDDEN",
        variables: input((f) => ({ serverId: f.serverId, kind: "BANNER" })),
      },
      { actor: "member", code: "FORBIDDEN" },
      { actor: "banned", code: "NOT_FOUND" },
    ],
  },
  // Invites.
  {
    field: "createInvite",
    document: `mutation ($input: CreateInviteInput!) { createInvite(input: $input) { invite { code } } }`,
    variables: input(inServer),
    // SRV-4: a private server's @everyone has no CREATE_INSTANT_INVITE.
    refusals: [{ actor: "member", code: "FORBIDDEN" }],
  },
  {
    field: "revokeInvite",
    document: `mutation ($input: RevokeInviteInput!) { revokeInvite(input: $input) { invite { code } } }`,
    variables: input((f) => ({ serverId: f.serverId, code: f.inviteCode })),
    refusals: [
      { actor: "member", code: "FORBIDDEN" },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: input((f) => ({ serverId: f.rivalServerId, code: f.inviteCode })),
      },
    ],
  },
  {
    field: "joinServerByInvite",
    document: `mutation ($input: JoinServerByInviteInput!) { joinServerByInvite(input: $input) { server { id } } }`,
    // A live code is the right to join, so outsiders try the revoked one.
    variables: input((f) => ({ code: f.revokedCode })),
    refusals: [{ actor: "banned", code: "FORBIDDEN", variables: input((f) => ({ code: f.inviteCode })) }],
  },
  {
    field: "sendServerInvite",
    document: `mutation ($input: SendServerInviteInput!) { sendServerInvite(input: $input) { invite { code } } }`,
    // Sending again would replace the invitee's pending invite (a new code): the state shows it.
    variables: input((f) => ({ serverId: f.serverId, userId: f.invitee.user.id })),
    // SRV-4: a private server's @everyone has no CREATE_INSTANT_INVITE, and no moderator role adds it.
    refusals: [
      { actor: "muted", code: "FORBIDDEN" },
      { actor: "junior", code: "FORBIDDEN" },
      { actor: "member", code: "FORBIDDEN" },
      {
        actor: "member",
        code: "FORBIDDEN",
        variables: input((f) => ({ serverId: f.serverId, userId: f.stranger.user.id })),
      },
      { actor: "banned", code: "NOT_FOUND" },
    ],
  },
  {
    field: "declineInvite",
    document: `mutation ($input: DeclineInviteInput!) { declineInvite(input: $input) { code } }`,
    // Only its recipient (the invitee) may decline it; to anyone else it is not there.
    variables: input((f) => ({ code: f.inAppCode })),
    refusals: [
      { actor: "member", code: "NOT_FOUND" },
      { actor: "junior", code: "NOT_FOUND" },
      { actor: "rival", code: "NOT_FOUND" },
      // A shared code is no in-app invite of theirs either.
      { actor: "member", code: "NOT_FOUND", variables: input((f) => ({ code: f.inviteCode })) },
    ],
  },
  // Channels and overwrites.
  {
    field: "createChannel",
    document: `mutation ($input: CreateChannelInput!) { createChannel(input: $input) { channel { id } } }`,
    variables: input((f) => ({ serverId: f.serverId, name: "intruder" })),
    refusals: [
      {
        actor: "muted",
        code: "FORBIDDEN",
        variables: input((f) => ({ serverId: f.serverId, name: "muted" })),
      },
      {
        actor: "junior",
        code: "NOT_FOUND",
        variables: input((f) => ({ serverId: f.serverId, name: "intruder", parentId: f.folderId })),
      },
      { actor: "member", code: "FORBIDDEN" },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: input((f) => ({ serverId: f.rivalServerId, name: "intruder", parentId: f.folderId })),
      },
    ],
  },
  {
    field: "updateChannel",
    document: `mutation ($input: UpdateChannelInput!) { updateChannel(input: $input) { channel { id } } }`,
    variables: input((f) => ({ channelId: f.generalId, topic: "hijacked" })),
    refusals: [
      {
        actor: "muted",
        code: "FORBIDDEN",
        variables: input((f) => ({ channelId: f.generalId, topic: "muted" })),
      },
      {
        actor: "junior",
        code: "NOT_FOUND",
        variables: input((f) => ({ channelId: f.generalId, parentId: f.folderId })),
      },
      { actor: "member", code: "FORBIDDEN" },
      {
        actor: "member",
        code: "NOT_FOUND",
        variables: input((f) => ({ channelId: f.secretId, topic: "hijacked" })),
      },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: input((f) => ({ channelId: f.rivalChannelId, parentId: f.folderId })),
      },
    ],
  },
  {
    field: "deleteChannel",
    document: `mutation ($input: DeleteChannelInput!) { deleteChannel(input: $input) { channelIds } }`,
    variables: input((f) => ({ channelId: f.generalId })),
    refusals: [
      { actor: "muted", code: "FORBIDDEN", variables: input((f) => ({ channelId: f.generalId })) },
      // The shelf holds secret, which the junior cannot view: its channels would go with it (CHAN-2).
      { actor: "junior", code: "FORBIDDEN", variables: input((f) => ({ channelId: f.shelfId })) },
      { actor: "member", code: "FORBIDDEN" },
      { actor: "member", code: "NOT_FOUND", variables: input((f) => ({ channelId: f.secretId })) },
    ],
  },
  {
    field: "setChannelOverwrite",
    document: `mutation ($input: SetChannelOverwriteInput!) { setChannelOverwrite(input: $input) { channel { id } } }`,
    variables: input((f) => ({
      channelId: f.generalId,
      targetType: "ROLE",
      targetId: f.serverId,
      deny: String(P.VIEW_CHANNEL),
    })),
    refusals: [
      {
        actor: "muted",
        code: "FORBIDDEN",
        variables: input((f) => ({
          channelId: f.generalId,
          targetType: "MEMBER",
          targetId: f.member.user.id,
          deny: String(P.SEND_MESSAGES),
        })),
      },
      {
        actor: "junior",
        code: "FORBIDDEN",
        variables: input((f) => ({
          channelId: f.generalId,
          targetType: "ROLE",
          targetId: f.crewRoleId,
          deny: String(P.SEND_MESSAGES),
        })),
      },
      {
        actor: "junior",
        code: "FORBIDDEN",
        variables: input((f) => ({
          channelId: f.generalId,
          targetType: "MEMBER",
          targetId: f.target.user.id,
          deny: String(P.SEND_MESSAGES),
        })),
      },
      {
        actor: "junior",
        code: "FORBIDDEN",
        variables: input((f) => ({
          channelId: f.generalId,
          targetType: "MEMBER",
          targetId: f.owner.user.id,
          deny: String(P.SEND_MESSAGES),
        })),
      },
      { actor: "member", code: "FORBIDDEN" },
      {
        actor: "member",
        code: "NOT_FOUND",
        variables: input((f) => ({
          channelId: f.secretId,
          targetType: "MEMBER",
          targetId: f.member.user.id,
          allow: String(P.VIEW_CHANNEL),
        })),
      },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: input((f) => ({
          channelId: f.rivalChannelId,
          targetType: "ROLE",
          targetId: f.crewRoleId,
        })),
      },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: input((f) => ({
          channelId: f.rivalChannelId,
          targetType: "MEMBER",
          targetId: f.target.user.id,
        })),
      },
    ],
  },
  {
    field: "deleteChannelOverwrite",
    document: `mutation ($input: DeleteChannelOverwriteInput!) { deleteChannelOverwrite(input: $input) { channel { id } } }`,
    variables: input((f) => ({ channelId: f.generalId, targetType: "ROLE", targetId: f.crewRoleId })),
    refusals: [
      { actor: "junior", code: "FORBIDDEN" },
      { actor: "member", code: "FORBIDDEN" },
      {
        actor: "member",
        code: "NOT_FOUND",
        variables: input((f) => ({ channelId: f.secretId, targetType: "ROLE", targetId: f.serverId })),
      },
    ],
  },
  {
    field: "syncChannelPermissions",
    document: `mutation ($input: SyncChannelPermissionsInput!) { syncChannelPermissions(input: $input) { channel { id } } }`,
    // Syncing lobby with shelf drops crew's overwrite of it.
    variables: input((f) => ({ channelId: f.lobbyId })),
    refusals: [
      { actor: "muted", code: "FORBIDDEN" },
      // ROLE-4: crew ranks above the junior, so its overwrite is not theirs to drop (setChannelOverwrite's rule).
      { actor: "junior", code: "FORBIDDEN" },
      { actor: "junior", code: "NOT_FOUND", variables: input((f) => ({ channelId: f.secretId })) },
      { actor: "member", code: "FORBIDDEN" },
      { actor: "member", code: "NOT_FOUND", variables: input((f) => ({ channelId: f.secretId })) },
      { actor: "banned", code: "NOT_FOUND" },
    ],
  },
  // Roles.
  {
    field: "createRole",
    document: `mutation ($input: CreateRoleInput!) { createRole(input: $input) { role { id } } }`,
    variables: input((f) => ({ serverId: f.serverId, name: "intruders" })),
    refusals: [
      {
        actor: "muted",
        code: "FORBIDDEN",
        variables: input((f) => ({ serverId: f.serverId, name: "muted" })),
      },
      { actor: "member", code: "FORBIDDEN" },
    ],
  },
  {
    field: "updateRole",
    document: `mutation ($input: UpdateRoleInput!) { updateRole(input: $input) { role { id } } }`,
    variables: input((f) => ({
      serverId: f.serverId,
      roleId: f.crewRoleId,
      permissions: String(P.ADMINISTRATOR),
    })),
    refusals: [
      { actor: "junior", code: "FORBIDDEN" },
      { actor: "member", code: "FORBIDDEN" },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: input((f) => ({ serverId: f.rivalServerId, roleId: f.crewRoleId, name: "pwned" })),
      },
    ],
  },
  {
    field: "deleteRole",
    document: `mutation ($input: DeleteRoleInput!) { deleteRole(input: $input) { roleId } }`,
    variables: input((f) => ({ serverId: f.serverId, roleId: f.crewRoleId })),
    refusals: [
      { actor: "junior", code: "FORBIDDEN" },
      { actor: "member", code: "FORBIDDEN" },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: input((f) => ({ serverId: f.rivalServerId, roleId: f.crewRoleId })),
      },
    ],
  },
  {
    field: "assignRole",
    document: `mutation ($input: MemberRoleInput!) { assignRole(input: $input) { member { userId } } }`,
    variables: input((f) => ({ serverId: f.serverId, roleId: f.crewRoleId, userId: f.member.user.id })),
    refusals: [
      { actor: "junior", code: "FORBIDDEN" },
      { actor: "member", code: "FORBIDDEN" },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: input((f) => ({
          serverId: f.rivalServerId,
          roleId: f.crewRoleId,
          userId: f.rival.user.id,
        })),
      },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: input((f) => ({
          serverId: f.rivalServerId,
          roleId: f.rivalRoleId,
          userId: f.target.user.id,
        })),
      },
    ],
  },
  {
    field: "removeRole",
    document: `mutation ($input: MemberRoleInput!) { removeRole(input: $input) { member { userId } } }`,
    variables: input((f) => ({ serverId: f.serverId, roleId: f.crewRoleId, userId: f.target.user.id })),
    refusals: [
      { actor: "junior", code: "FORBIDDEN" },
      { actor: "member", code: "FORBIDDEN" },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: input((f) => ({
          serverId: f.rivalServerId,
          roleId: f.crewRoleId,
          userId: f.target.user.id,
        })),
      },
    ],
  },
  // Moderation.
  {
    field: "banMember",
    document: `mutation ($input: BanMemberInput!) { banMember(input: $input) { ban { userId } } }`,
    variables: input((f) => ({ serverId: f.serverId, userId: f.target.user.id })),
    // A rival may ban anyone from their own server (non-members too), so only insiders are refused here.
    refusals: [
      {
        actor: "muted",
        code: "FORBIDDEN",
        variables: input((f) => ({ serverId: f.serverId, userId: f.member.user.id })),
      },
      { actor: "junior", code: "FORBIDDEN" },
      { actor: "member", code: "FORBIDDEN" },
    ],
  },
  {
    field: "unbanMember",
    document: `mutation ($input: UnbanMemberInput!) { unbanMember(input: $input) { userId } }`,
    variables: input((f) => ({ serverId: f.serverId, userId: f.banned.user.id })),
    refusals: [
      {
        actor: "muted",
        code: "FORBIDDEN",
        variables: input((f) => ({ serverId: f.serverId, userId: f.banned.user.id })),
      },
      { actor: "member", code: "FORBIDDEN" },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: input((f) => ({ serverId: f.rivalServerId, userId: f.banned.user.id })),
      },
    ],
  },
  {
    field: "timeoutMember",
    document: `mutation ($input: TimeoutMemberInput!) { timeoutMember(input: $input) { userId } }`,
    variables: (f) => ({ input: { serverId: f.serverId, userId: f.member.user.id, until: soon() } }),
    refusals: [
      {
        actor: "muted",
        code: "FORBIDDEN",
        variables: input((f) => ({ serverId: f.serverId, userId: f.member.user.id, until: soon() })),
      },
      {
        actor: "junior",
        code: "FORBIDDEN",
        variables: (f) => ({ input: { serverId: f.serverId, userId: f.target.user.id, until: soon() } }),
      },
      {
        actor: "member",
        code: "FORBIDDEN",
        variables: (f) => ({ input: { serverId: f.serverId, userId: f.target.user.id, until: soon() } }),
      },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: (f) => ({ input: { serverId: f.rivalServerId, userId: f.target.user.id, until: soon() } }),
      },
    ],
  },
  {
    field: "clearMemberTimeout",
    document: `mutation ($input: ClearMemberTimeoutInput!) { clearMemberTimeout(input: $input) { userId } }`,
    variables: input((f) => ({ serverId: f.serverId, userId: f.target.user.id })),
    refusals: [
      { actor: "junior", code: "FORBIDDEN" },
      { actor: "member", code: "FORBIDDEN" },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: input((f) => ({ serverId: f.rivalServerId, userId: f.target.user.id })),
      },
    ],
  },
  // Other features, one list per feature.
  ...MESSAGES_AUTHORIZATION_MATRIX,
  // Reactions, read states and threads (MSG-9, MSG-11, MSG-13): #secret's message and thread are hidden
  // from the plain member (no VIEW_CHANNEL there), so everything naming them is NOT_FOUND to them.
  {
    field: "reactionUsers",
    document: `query ($messageId: ID!, $emoji: String!) { reactionUsers(messageId: $messageId, emoji: $emoji) { userIds } }`,
    variables: (f) => ({ messageId: f.secretMessageId, emoji: "👍" }),
    refusals: [
      { actor: "member", code: "NOT_FOUND" },
      { actor: "rival", code: "NOT_FOUND" },
      { actor: "banned", code: "NOT_FOUND" },
    ],
  },
  {
    field: "addReaction",
    document: `mutation ($input: ReactionInput!) { addReaction(input: $input) { messageId } }`,
    variables: input((f) => ({ messageId: f.secretMessageId, emoji: "👍" })),
    refusals: [
      { actor: "member", code: "NOT_FOUND" },
      { actor: "banned", code: "NOT_FOUND" },
      // Timed out: VIEW_CHANNEL and READ_MESSAGE_HISTORY only, so no new emoji (ADD_REACTIONS).
      {
        actor: "muted",
        code: "FORBIDDEN",
        variables: input((f) => ({ messageId: f.generalMessageId, emoji: "🚫" })),
      },
    ],
  },
  {
    field: "removeReaction",
    document: `mutation ($input: ReactionInput!) { removeReaction(input: $input) { messageId } }`,
    variables: input((f) => ({ messageId: f.secretMessageId, emoji: "👍" })),
    refusals: [
      { actor: "member", code: "NOT_FOUND" },
      { actor: "rival", code: "NOT_FOUND" },
    ],
  },
  {
    field: "readStates",
    document: `query ($serverId: ID!) { readStates(serverId: $serverId) { channelId } }`,
    variables: inServer,
    refusals: [
      { actor: "rival", code: "NOT_FOUND" },
      { actor: "banned", code: "NOT_FOUND" },
    ],
  },
  {
    field: "markChannelRead",
    document: `mutation ($input: MarkChannelReadInput!) { markChannelRead(input: $input) { readState { channelId } } }`,
    variables: input((f) => ({ channelId: f.secretId })),
    refusals: [
      { actor: "member", code: "NOT_FOUND" },
      {
        actor: "member",
        code: "NOT_FOUND",
        variables: input((f) => ({ channelId: f.secretId, messageId: f.secretMessageId })),
      },
      {
        actor: "rival",
        code: "NOT_FOUND",
        variables: input((f) => ({ channelId: f.rivalChannelId, messageId: f.secretMessageId })),
      },
    ],
  },
  {
    field: "threads",
    document: `query ($channelId: ID!) { threads(channelId: $channelId) { id } }`,
    variables: (f) => ({ channelId: f.secretId }),
    refusals: [
      { actor: "member", code: "NOT_FOUND" },
      { actor: "banned", code: "NOT_FOUND" },
    ],
  },
  {
    field: "startThread",
    document: `mutation ($input: StartThreadInput!) { startThread(input: $input) { thread { id } } }`,
    variables: input((f) => ({ messageId: f.generalMessageId, name: "matrix" })),
    refusals: [
      {
        actor: "member",
        code: "NOT_FOUND",
        variables: input((f) => ({ messageId: f.secretMessageId, name: "x" })),
      },
      // Timed out: no CREATE_PUBLIC_THREADS.
      { actor: "muted", code: "FORBIDDEN" },
      { actor: "banned", code: "NOT_FOUND" },
    ],
  },
  {
    field: "renameThread",
    document: `mutation ($input: RenameThreadInput!) { renameThread(input: $input) { thread { id } } }`,
    variables: input((f) => ({ threadId: f.secretThreadId, name: "renamed" })),
    refusals: [
      { actor: "member", code: "NOT_FOUND" },
      { actor: "rival", code: "NOT_FOUND" },
      { actor: "banned", code: "NOT_FOUND" },
    ],
  },
];

/**
 * Id-taking fields of other features, kept out of the matrix on purpose, by field name. `pending` marks
 * fields announced in api.md that are not in the schema yet (reactions); the guard tolerates
 * their absence, and fails on any other name that is no longer in the schema. Move an entry into the
 * matrix when its feature's operations name server objects.
 */
export const EXCLUDED_FROM_MATRIX: Record<string, { feature: string; why: string; pending?: true }> = {
  revokeSession: {
    feature: "users (sessions)",
    why: "names one of the viewer's own sessions; another user's session id is NOT_FOUND (sessions.scenarios.ts)",
  },
};

/** ISSUE-4 "Done when": every id-taking operation refuses those without the right, and changes nothing. */
export function defineAuthorizationMatrixScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;

  describe("authorization matrix", () => {
    let f: AuthorizationFixture;
    beforeAll(async () => {
      f = await buildAuthorizationFixture(url());
    }, 60_000);

    const actor = (name: Actor): User =>
      ({ member: f.member, rival: f.rival, banned: f.banned, junior: f.junior, muted: f.mutedJunior })[name];

    it("covers every Query and Mutation field of the live schema that takes an object id", async () => {
      const fields = await idTakingFields(url());
      const inSchema = new Set(fields.map((field) => field.field));
      const matrix = new Set(AUTHORIZATION_MATRIX.map((entry) => entry.field));
      const uncovered = fields
        .filter((field) => !matrix.has(field.field) && !(field.field in EXCLUDED_FROM_MATRIX))
        .map((field) => `${field.root}.${field.field}(${field.idArguments.join(", ")})`);
      expect(
        uncovered,
        "add these to AUTHORIZATION_MATRIX (or, for another feature, EXCLUDED_FROM_MATRIX)",
      ).toEqual([]);
      const stale = [
        ...[...matrix].filter((name) => !inSchema.has(name)),
        ...Object.entries(EXCLUDED_FROM_MATRIX)
          .filter(([name, exclusion]) => !exclusion.pending && !inSchema.has(name))
          .map(([name]) => name),
      ];
      expect(stale, "entries naming no id-taking field of the schema").toEqual([]);
      expect([...matrix].filter((name) => name in EXCLUDED_FROM_MATRIX)).toEqual([]);
    });

    defineServersFeaturesProbeCheck(() => f);

    for (const entry of AUTHORIZATION_MATRIX) {
      const who = ["anonymous", "stranger", ...new Set(entry.refusals.map((refusal) => refusal.actor))].join(
        ", ",
      );
      it(`${entry.label ?? entry.field}: refused to ${who}; nothing changes`, async () => {
        const before = await stateOf(f);
        // Without a token, nobody gets past the gateway; a stranger does not learn the ids exist.
        const attempts: Array<{
          actor: string;
          token: string | undefined;
          code: Code;
          variables: Variables;
        }> = [
          { actor: "anonymous", token: undefined, code: "UNAUTHENTICATED", variables: entry.variables(f) },
          {
            actor: "stranger",
            token: f.stranger.accessToken,
            code: "NOT_FOUND",
            variables: entry.variables(f),
          },
          ...entry.refusals.map((refusal) => ({
            actor: refusal.actor,
            token: actor(refusal.actor).accessToken,
            code: refusal.code,
            variables: (refusal.variables ?? entry.variables)(f),
          })),
        ];
        for (const attempt of attempts) {
          const response = await graphql(url(), entry.document, attempt.variables, attempt.token);
          // Every error of the response carries the code, and no data comes back.
          const codes = [...new Set((response.errors ?? []).map((error) => error.extensions?.code))];
          expect(
            { codes, data: response.data?.[entry.field] ?? null },
            `${entry.field} as ${attempt.actor} with ${JSON.stringify(attempt.variables)}`,
          ).toEqual({ codes: [attempt.code], data: null });
        }
        expect(await stateOf(f)).toEqual(before);
      });
    }

    defineServerPictureRouteRefusals(() => f);

    /**
     * An admin (ADMINISTRATOR) whose token stays valid is kicked or banned; right after, every entry as
     * the owner would send it is NOT_FOUND to them. Their reads ran just before, so any per-server cache
     * holds them as a member when the kick lands.
     */
    for (const removal of ["kicked", "banned"] as const) {
      it(`an admin ${removal} a moment ago is refused every operation at once; nothing changes`, async () => {
        const admin = await signedInUser(url());
        await makeAdmin(f, admin);
        const warm = [
          `query ($serverId: ID!, $channelId: ID!) { explainPermissions(serverId: $serverId, channelId: $channelId) { permissions } }`,
          `query ($serverId: ID!, $channelId: ID) { myPermissions(serverId: $serverId, channelId: $channelId) }`,
          `query ($serverId: ID!) { invites(serverId: $serverId) { code } bans(serverId: $serverId) { userId } }`,
        ];
        for (const query of warm) {
          dataOf(await asUser(url(), admin, query, { serverId: f.serverId, channelId: f.secretId }));
        }
        const before = await stateOf(f);
        const remove =
          removal === "kicked"
            ? `mutation ($input: KickMemberInput!) { kickMember(input: $input) { userId } }`
            : `mutation ($input: BanMemberInput!) { banMember(input: $input) { ban { userId } } }`;
        dataOf(
          await asUser(url(), f.owner, remove, { input: { serverId: f.serverId, userId: admin.user.id } }),
        );
        // At once: every attempt is sent together, right after the removal committed.
        const responses = await Promise.all(
          AUTHORIZATION_MATRIX.map(async (entry) => {
            const response = await asUser(url(), admin, entry.document, entry.variables(f));
            return [entry.label ?? entry.field, codeOf(response) ?? response.data] as const;
          }),
        );
        expect(Object.fromEntries(responses)).toEqual(
          Object.fromEntries(AUTHORIZATION_MATRIX.map((entry) => [entry.label ?? entry.field, "NOT_FOUND"])),
        );
        // The removal is the only change: the admin is gone (and banned), and it is the last audited write.
        const after = await stateOf(f);
        const expected = structuredClone(before);
        expected.server.server.members = before.server.server.members.filter(
          (m) => m.userId !== admin.user.id,
        );
        expected.server.server.memberCount -= 1;
        if (removal === "banned")
          expected.server.bans = [{ userId: admin.user.id, reason: "" }, ...before.server.bans];
        expected.server.auditLog = {
          entries: [
            { id: expect.any(String), action: removal === "kicked" ? "MEMBER_KICK" : "MEMBER_BAN_ADD" },
          ],
        };
        expect(after).toEqual(expected);
      });
    }
  });
}
