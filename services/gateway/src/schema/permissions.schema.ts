import { PermissionsService } from "@beep/proto/gen/beep/servers/v1/permissions_pb.ts";
import type { GatewayContext } from "../gateway.context.ts";
import { asViewer, type SchemaModule } from "./schema-module.ts";

// Only the member-facing RPCs of PermissionsService appear here. ChannelPermissions and CheckPermissions
// are for Beep services (they take a user id) and are never exposed by the gateway (ADR 0004).
const typeDefs = /* GraphQL */ `
  "What one step of a permission computation is, in the order steps can occur (ROLE-6)."
  enum PermissionStepKind {
    "The server owner has every permission."
    OWNER
    "The @everyone role's permissions, which every member has."
    EVERYONE_ROLE
    "One of the member's roles adds its permissions."
    ROLE
    "ADMINISTRATOR grants everything and bypasses overwrites."
    ADMINISTRATOR
    "The channel's @everyone overwrite denies bits."
    EVERYONE_OVERWRITE_DENY
    "The channel's @everyone overwrite allows bits."
    EVERYONE_OVERWRITE_ALLOW
    "A role overwrite of one of the member's roles denies bits."
    ROLE_OVERWRITE_DENY
    "A role overwrite of one of the member's roles allows bits."
    ROLE_OVERWRITE_ALLOW
    "The member's own overwrite denies bits."
    MEMBER_OVERWRITE_DENY
    "The member's own overwrite allows bits."
    MEMBER_OVERWRITE_ALLOW
    "Without VIEW_CHANNEL nothing else applies."
    IMPLICIT_VIEW_CHANNEL
    "Without SEND_MESSAGES there is no MENTION_EVERYONE, ATTACH_FILES or EMBED_LINKS."
    IMPLICIT_SEND_MESSAGES
    "A timed-out member keeps only VIEW_CHANNEL and READ_MESSAGE_HISTORY."
    TIMEOUT
  }

  "Where a step comes from: a role, an overwrite's target or a member."
  type PermissionStepSource {
    "The role id, or the member's user id."
    id: ID!
    "The role's name; null for a member."
    name: String
  }

  "One step of the computation, in order; replaying them gives the final permissions."
  type PermissionStep {
    "What kind of step it is."
    kind: PermissionStepKind!
    "Where it comes from; null for a rule (implicit permissions)."
    source: PermissionStepSource
    "Bits this step added."
    set: Permissions!
    "Names of the bits this step added."
    setNames: [String!]!
    "Bits this step removed."
    cleared: Permissions!
    "Names of the bits this step removed."
    clearedNames: [String!]!
    "The permissions after this step."
    after: Permissions!
    "A short sentence for humans."
    reason: String!
  }

  "Why a member has the permissions they have in a channel (ROLE-6)."
  type PermissionExplanation {
    "The member explained."
    userId: ID!
    "Their final permissions in the channel."
    permissions: Permissions!
    "Names of the final permissions."
    permissionNames: [String!]!
    "The ordered steps that produced them."
    steps: [PermissionStep!]!
  }

  "Who would gain and who would lose one permission."
  type PermissionAccessChange {
    "The permission's name, e.g. VIEW_CHANNEL."
    permission: String!
    "Its bit."
    bit: Permissions!
    "User ids of members who would gain it."
    gained: [ID!]!
    "User ids of members who would lose it."
    lost: [ID!]!
  }

  "What an overwrite edit would change, computed without writing anything."
  type OverwriteDryRun {
    "Permissions that would change, ascending bit order; unchanged ones are omitted."
    changes: [PermissionAccessChange!]!
    "How many members were compared (at most 1000)."
    membersChecked: Int!
    "True when the server has more members than were compared, so the answer is partial."
    truncated: Boolean!
  }

  type Query {
    """
    Why a member has their permissions in a channel: the ordered steps of the computation. userId
    defaults to the viewer; explaining someone else needs MANAGE_ROLES. Errors: NOT_FOUND, FORBIDDEN.
    """
    explainPermissions(serverId: ID!, channelId: ID!, userId: ID): PermissionExplanation!
    """
    Who would gain or lose each permission if the channel overwrite of targetType/targetId were set to
    allow/deny (nothing is written; MANAGE_ROLES in the channel, and a target below the viewer's highest role
    or the viewer; the first 1000 members are compared).
    Errors: NOT_FOUND, FORBIDDEN, BAD_USER_INPUT.
    """
    dryRunOverwrite(
      serverId: ID!
      channelId: ID!
      targetType: OverwriteTargetType!
      targetId: ID!
      allow: Permissions
      deny: Permissions
    ): OverwriteDryRun!
  }
`;

type Ctx = GatewayContext;
const rpc = (context: Ctx) => context.clients.client(PermissionsService);

/** ROLE-6 explanations and overwrite dry-runs, for members. */
export const permissionsSchema: SchemaModule = {
  typeDefs,
  resolvers: {
    PermissionStep: {
      kind: (step: { kind: string }) => step.kind.toUpperCase().replaceAll("-", "_"),
      source: (step: { sourceId: string; sourceName: string }) =>
        step.sourceId === "" ? null : { id: step.sourceId, name: step.sourceName || null },
    },
    Query: {
      explainPermissions: (
        _root: unknown,
        args: { serverId: string; channelId: string; userId?: string | null },
        context: Ctx,
      ) =>
        rpc(context).explainPermissions(
          { serverId: args.serverId, channelId: args.channelId, userId: args.userId ?? "" },
          asViewer(context),
        ),
      dryRunOverwrite: (
        _root: unknown,
        args: {
          serverId: string;
          channelId: string;
          targetType: string;
          targetId: string;
          allow?: string | null;
          deny?: string | null;
        },
        context: Ctx,
      ) =>
        rpc(context).dryRunOverwrite(
          {
            serverId: args.serverId,
            channelId: args.channelId,
            targetType: args.targetType,
            targetId: args.targetId,
            allow: args.allow ?? "0",
            deny: args.deny ?? "0",
          },
          asViewer(context),
        ),
    },
  },
};
