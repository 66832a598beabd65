import { BeepError } from "@beep/errors";
import { ServersService } from "@beep/proto/gen/beep/servers/v1/servers_pb.ts";
import { GraphQLScalarType, Kind } from "graphql";
import type { GatewayContext } from "../gateway.context.ts";
import { asViewer, type SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  """
  A permission bit set: a decimal string of Discord's bit numbers (e.g. "3072" = VIEW_CHANNEL | SEND_MESSAGES).
  """
  scalar Permissions

  "What a channel is."
  enum ChannelType {
    "Text messages."
    TEXT
    "Voice and video."
    VOICE
    "A folder holding other channels (one level deep)."
    FOLDER
  }

  "Who a channel overwrite applies to."
  enum OverwriteTargetType {
    "A role; the @everyone role's id is the server id."
    ROLE
    "One member, by user id."
    MEMBER
  }

  """
  A community with members, roles and channels (SRV-1).
  """
  type Server {
    "Opaque id."
    id: ID!
    "2–100 characters."
    name: String!
    "Up to 1000 characters."
    description: String!
    "Anyone may join a public server; a private one needs an invite."
    public: Boolean!
    "The owner's user id."
    ownerId: ID!
    "When it was created."
    createdAt: DateTime!
    "How many members it has."
    memberCount: Int!
    "The channels the viewer can view, by position. Errors: NOT_FOUND for a non-member."
    channels: [Channel!]!
    "The roles, highest first; @everyone last. Errors: NOT_FOUND for a non-member."
    roles: [Role!]!
    "The members, oldest first. Errors: NOT_FOUND for a non-member."
    members: [Member!]!
    "The viewer's server-level permissions. Errors: NOT_FOUND for a non-member."
    myPermissions: Permissions!
  }

  """
  A channel of a server (CHAN-1).
  """
  type Channel {
    "Opaque id."
    id: ID!
    "The server it belongs to."
    serverId: ID!
    "1–100 characters."
    name: String!
    "Text, voice or folder."
    type: ChannelType!
    "The folder holding it; null at the top level."
    parentId: ID
    "Order among channels, ascending."
    position: Int!
    "What the channel is about; may be empty."
    topic: String!
    "Permission overwrites for roles and members (CHAN-3)."
    overwrites: [PermissionOverwrite!]!
    "True while its overwrites are its folder's and follow them (Discord's sync model); editing its own unsyncs it."
    permissionsSynced: Boolean!
    "The viewer's effective permissions in this channel."
    myPermissions: Permissions!
  }

  "Bits a channel allows or denies one role or member, over their server permissions."
  type PermissionOverwrite {
    "Role or member."
    targetType: OverwriteTargetType!
    "The role id or the member's user id."
    targetId: ID!
    "Bits granted in this channel."
    allow: Permissions!
    "Bits taken away in this channel."
    deny: Permissions!
  }

  """
  A role: a named permission bit set with a place in the hierarchy (ROLE-1).
  """
  type Role {
    "Opaque id; the @everyone role's id is the server id."
    id: ID!
    "The server it belongs to."
    serverId: ID!
    "1–100 characters."
    name: String!
    "0xRRGGBB as an integer; 0 means none."
    color: Int!
    "Server-level bits it grants."
    permissions: Permissions!
    "Higher outranks lower; @everyone is 0."
    position: Int!
    "True for @everyone, which every member has."
    everyone: Boolean!
  }

  "A member of a server."
  type Member {
    "The server."
    serverId: ID!
    "The member's user id."
    userId: ID!
    "Roles held besides @everyone."
    roleIds: [ID!]!
    "When they joined."
    joinedAt: DateTime!
    "True for the server's owner."
    owner: Boolean!
  }

  "An invite code to a server (SRV-3)."
  type Invite {
    "The code to pass to joinServerByInvite."
    code: String!
    "The server it opens."
    serverId: ID!
    "Who created it."
    creatorId: ID!
    "When it stops working; null for never."
    expiresAt: DateTime
    "How many joins it allows; 0 for unlimited."
    maxUses: Int!
    "How many joins it has served."
    uses: Int!
    "True once revoked."
    revoked: Boolean!
    "When it was created."
    createdAt: DateTime!
  }

  type Query {
    "A server the viewer is a member of, or any public server. Errors: UNAUTHENTICATED, NOT_FOUND."
    server(id: ID!): Server!
    "The servers the viewer is a member of. Errors: UNAUTHENTICATED."
    myServers: [Server!]!
    "A server's invites (MANAGE_GUILD). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN."
    invites(serverId: ID!): [Invite!]!
    "The viewer's permissions in a server, or in one of its channels. Errors: UNAUTHENTICATED, NOT_FOUND."
    myPermissions(serverId: ID!, channelId: ID): Permissions!
  }

  "Input of createServer."
  input CreateServerInput {
    "2–100 characters."
    name: String!
    "Up to 1000 characters; default empty."
    description: String
    "Whether anyone may join; default false."
    public: Boolean
  }

  "Result of createServer, updateServer, transferServerOwnership, joinServer and joinServerByInvite."
  type ServerPayload {
    "The server as it is now."
    server: Server!
  }

  "Input of updateServer; absent fields stay as they are."
  input UpdateServerInput {
    "The server."
    serverId: ID!
    "2–100 characters."
    name: String
    "Up to 1000 characters."
    description: String
    "Whether anyone may join."
    public: Boolean
  }

  "Input of mutations that name only a server."
  input ServerIdInput {
    "The server."
    serverId: ID!
  }

  "Result of deleteServer and leaveServer."
  type ServerIdPayload {
    "The server deleted or left."
    serverId: ID!
  }

  "Input of transferServerOwnership."
  input TransferServerOwnershipInput {
    "The server."
    serverId: ID!
    "The member who becomes owner."
    userId: ID!
  }

  "Input of kickMember."
  input KickMemberInput {
    "The server."
    serverId: ID!
    "The member to remove."
    userId: ID!
    "Why; kept in the audit log; up to 512 characters."
    reason: String
  }

  "Result of kickMember."
  type KickMemberPayload {
    "The removed member's user id."
    userId: ID!
  }

  "Input of createInvite."
  input CreateInviteInput {
    "The server."
    serverId: ID!
    "Seconds until it expires (up to 30 days); 0 or absent for never."
    maxAgeSeconds: Int
    "How many joins it allows; 0 or absent for unlimited."
    maxUses: Int
  }

  "Input of revokeInvite."
  input RevokeInviteInput {
    "The server."
    serverId: ID!
    "The invite code."
    code: String!
  }

  "Result of createInvite and revokeInvite."
  type InvitePayload {
    "The invite as it is now."
    invite: Invite!
  }

  "Input of joinServerByInvite."
  input JoinServerByInviteInput {
    "The invite code."
    code: String!
  }

  "Input of createChannel."
  input CreateChannelInput {
    "The server."
    serverId: ID!
    "1–100 characters."
    name: String!
    "Default TEXT."
    type: ChannelType
    "A folder of the same server; absent for the top level."
    parentId: ID
    "Up to 1024 characters."
    topic: String
  }

  "Input of updateChannel; absent fields stay as they are."
  input UpdateChannelInput {
    "The channel."
    channelId: ID!
    "1–100 characters."
    name: String
    "Up to 1024 characters."
    topic: String
    "New position, 0–10000."
    position: Int
    "A folder to move it into; empty string moves it to the top level."
    parentId: ID
    "True: take the (new) folder's overwrites and follow them (MANAGE_ROLES); otherwise a moved channel keeps its own and is no longer synced."
    syncPermissions: Boolean
  }

  "Result of createChannel, updateChannel, setChannelOverwrite and deleteChannelOverwrite."
  type ChannelPayload {
    "The channel as it is now."
    channel: Channel!
  }

  "Input of deleteChannel."
  input DeleteChannelInput {
    "The channel; a folder's channels go with it."
    channelId: ID!
  }

  "Result of deleteChannel."
  type DeleteChannelPayload {
    "Every channel deleted."
    channelIds: [ID!]!
  }

  "Input of createRole."
  input CreateRoleInput {
    "The server."
    serverId: ID!
    "1–100 characters."
    name: String!
    "0xRRGGBB as an integer; default 0."
    color: Int
    "Bits it grants (only bits the viewer has); default none."
    permissions: Permissions
  }

  "Input of updateRole; absent fields stay as they are."
  input UpdateRoleInput {
    "The server."
    serverId: ID!
    "The role."
    roleId: ID!
    "1–100 characters."
    name: String
    "0xRRGGBB as an integer."
    color: Int
    "Bits it grants (changed bits must be ones the viewer has)."
    permissions: Permissions
    "New position, 1 and up, below the viewer's highest role."
    position: Int
  }

  "Result of createRole and updateRole."
  type RolePayload {
    "The role as it is now."
    role: Role!
  }

  "Input of deleteRole."
  input DeleteRoleInput {
    "The server."
    serverId: ID!
    "The role."
    roleId: ID!
  }

  "Result of deleteRole."
  type DeleteRolePayload {
    "The deleted role."
    roleId: ID!
  }

  "Input of assignRole and removeRole."
  input MemberRoleInput {
    "The server."
    serverId: ID!
    "The role."
    roleId: ID!
    "The member's user id."
    userId: ID!
  }

  "Result of assignRole and removeRole."
  type MemberPayload {
    "The member as they are now."
    member: Member!
  }

  "Input of setChannelOverwrite."
  input SetChannelOverwriteInput {
    "The channel."
    channelId: ID!
    "Role or member."
    targetType: OverwriteTargetType!
    "The role id or the member's user id."
    targetId: ID!
    "Bits to grant; default none."
    allow: Permissions
    "Bits to take away; default none."
    deny: Permissions
  }

  "Input of deleteChannelOverwrite."
  input DeleteChannelOverwriteInput {
    "The channel."
    channelId: ID!
    "Role or member."
    targetType: OverwriteTargetType!
    "The role id or the member's user id."
    targetId: ID!
  }

  type Mutation {
    "Creates a server owned by the viewer, with @everyone and #general. Errors: UNAUTHENTICATED, BAD_USER_INPUT, LIMIT_EXCEEDED."
    createServer(input: CreateServerInput!): ServerPayload!
    "Edits a server's profile (MANAGE_GUILD). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT."
    updateServer(input: UpdateServerInput!): ServerPayload!
    "Deletes a server and everything in it (owner only). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN."
    deleteServer(input: ServerIdInput!): ServerIdPayload!
    "Makes another member the owner (owner only). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN."
    transferServerOwnership(input: TransferServerOwnershipInput!): ServerPayload!
    "Joins a public server. Errors: UNAUTHENTICATED, NOT_FOUND, LIMIT_EXCEEDED."
    joinServer(input: ServerIdInput!): ServerPayload!
    "Leaves a server; the owner must transfer it first. Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN."
    leaveServer(input: ServerIdInput!): ServerIdPayload!
    "Removes a member (KICK_MEMBERS, outranking them). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN."
    kickMember(input: KickMemberInput!): KickMemberPayload!
    "Creates an invite (any member of a public server; CREATE_INSTANT_INVITE on a private one). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT."
    createInvite(input: CreateInviteInput!): InvitePayload!
    "Revokes an invite (its creator, or MANAGE_GUILD). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN."
    revokeInvite(input: RevokeInviteInput!): InvitePayload!
    "Joins the server of a live invite. Errors: UNAUTHENTICATED, NOT_FOUND (invalid, expired, revoked or used up), LIMIT_EXCEEDED."
    joinServerByInvite(input: JoinServerByInviteInput!): ServerPayload!
    "Creates a channel (MANAGE_CHANNELS). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, LIMIT_EXCEEDED."
    createChannel(input: CreateChannelInput!): ChannelPayload!
    "Renames, sets the topic, reorders or moves a channel (MANAGE_CHANNELS). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT."
    updateChannel(input: UpdateChannelInput!): ChannelPayload!
    "Deletes a channel, and a folder's channels (MANAGE_CHANNELS in it and in each of a folder's channels). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN."
    deleteChannel(input: DeleteChannelInput!): DeleteChannelPayload!
    "Creates a role just above @everyone (MANAGE_ROLES). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, LIMIT_EXCEEDED."
    createRole(input: CreateRoleInput!): RolePayload!
    "Edits a role below the viewer's highest (MANAGE_ROLES). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT."
    updateRole(input: UpdateRoleInput!): RolePayload!
    "Deletes a role below the viewer's highest (MANAGE_ROLES). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT."
    deleteRole(input: DeleteRoleInput!): DeleteRolePayload!
    "Gives a member a role below the viewer's highest (MANAGE_ROLES). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN."
    assignRole(input: MemberRoleInput!): MemberPayload!
    "Takes a role below the viewer's highest from a member (MANAGE_ROLES). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN."
    removeRole(input: MemberRoleInput!): MemberPayload!
    "Sets a channel's overwrite for a role or member below the viewer's highest role, or for the viewer (MANAGE_ROLES). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT."
    setChannelOverwrite(input: SetChannelOverwriteInput!): ChannelPayload!
    "Removes a channel's overwrite for a role or member below the viewer's highest role, or for the viewer (MANAGE_ROLES). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN."
    deleteChannelOverwrite(input: DeleteChannelOverwriteInput!): ChannelPayload!
  }
`;

const DECIMAL = /^\d{1,20}$/;

function parsePermissions(value: unknown): string {
  if (typeof value !== "string" || !DECIMAL.test(value)) {
    throw new BeepError("BAD_USER_INPUT", "Permissions must be a decimal string");
  }
  return value;
}

/** `Permissions`: decimal strings in and out, so 64-bit sets survive JSON. */
const PermissionsScalar = new GraphQLScalarType({
  name: "Permissions",
  // Why repeated here: a scalar given in resolvers replaces the SDL one, description included.
  description:
    'A permission bit set: a decimal string of Discord\'s bit numbers (e.g. "3072" = VIEW_CHANNEL | SEND_MESSAGES).',
  serialize: (value) => String(value),
  parseValue: parsePermissions,
  parseLiteral: (ast) => parsePermissions(ast.kind === Kind.STRING ? ast.value : undefined),
});

type Ctx = GatewayContext;
type Input<T> = { input: T };
type Rpc = ReturnType<typeof rpc>;

const rpc = (context: Ctx) => context.clients.client(ServersService);
/** Calls ServersService as the viewer. */
const call = <T>(context: Ctx, run: (client: Rpc, options: ReturnType<typeof asViewer>) => Promise<T>) =>
  run(rpc(context), asViewer(context));

/** Connect's optional proto fields: a GraphQL null means "not given". */
const given = <T>(value: T | null | undefined): T | undefined => (value === null ? undefined : value);

/** Servers, membership, invites, channels, roles and overwrites (SRV, CHAN, ROLE). */
export const serversSchema: SchemaModule = {
  typeDefs,
  resolvers: {
    Permissions: PermissionsScalar,
    ChannelType: { TEXT: "text", VOICE: "voice", FOLDER: "folder" },
    OverwriteTargetType: { ROLE: "role", MEMBER: "member" },
    Server: {
      channels: (server: { id: string }, _args: unknown, context: Ctx) =>
        call(context, async (c, o) => (await c.listChannels({ serverId: server.id }, o)).channels),
      roles: (server: { id: string }, _args: unknown, context: Ctx) =>
        call(context, async (c, o) => (await c.listRoles({ serverId: server.id }, o)).roles),
      members: (server: { id: string }, _args: unknown, context: Ctx) =>
        call(context, async (c, o) => (await c.listMembers({ serverId: server.id }, o)).members),
      myPermissions: (server: { id: string }, _args: unknown, context: Ctx) =>
        call(
          context,
          async (c, o) => (await c.getMyPermissions({ serverId: server.id, channelId: "" }, o)).permissions,
        ),
    },
    Channel: {
      parentId: (channel: { parentId: string }) => channel.parentId || null,
      myPermissions: (channel: { id: string; serverId: string }, _args: unknown, context: Ctx) =>
        call(
          context,
          async (c, o) =>
            (await c.getMyPermissions({ serverId: channel.serverId, channelId: channel.id }, o)).permissions,
        ),
    },
    Invite: {
      expiresAt: (invite: { expiresAt: string }) => invite.expiresAt || null,
    },
    Query: {
      server: (_root: unknown, { id }: { id: string }, context: Ctx) =>
        call(context, async (c, o) => (await c.getServer({ serverId: id }, o)).server),
      myServers: (_root: unknown, _args: unknown, context: Ctx) =>
        call(context, async (c, o) => (await c.listMyServers({}, o)).servers),
      invites: (_root: unknown, { serverId }: { serverId: string }, context: Ctx) =>
        call(context, async (c, o) => (await c.listInvites({ serverId }, o)).invites),
      myPermissions: (_root: unknown, args: { serverId: string; channelId?: string | null }, context: Ctx) =>
        call(
          context,
          async (c, o) =>
            (await c.getMyPermissions({ serverId: args.serverId, channelId: args.channelId ?? "" }, o))
              .permissions,
        ),
    },
    Mutation: {
      createServer: (
        _root: unknown,
        { input }: Input<{ name: string; description?: string | null; public?: boolean | null }>,
        context: Ctx,
      ) =>
        call(context, (c, o) =>
          c.createServer(
            { name: input.name, description: input.description ?? "", public: input.public ?? false },
            o,
          ),
        ),
      updateServer: (
        _root: unknown,
        {
          input,
        }: Input<{
          serverId: string;
          name?: string | null;
          description?: string | null;
          public?: boolean | null;
        }>,
        context: Ctx,
      ) =>
        call(context, (c, o) =>
          c.updateServer(
            {
              serverId: input.serverId,
              name: given(input.name),
              description: given(input.description),
              public: given(input.public),
            },
            o,
          ),
        ),
      deleteServer: (_root: unknown, { input }: Input<{ serverId: string }>, context: Ctx) =>
        call(context, (c, o) => c.deleteServer(input, o)),
      transferServerOwnership: (
        _root: unknown,
        { input }: Input<{ serverId: string; userId: string }>,
        context: Ctx,
      ) => call(context, (c, o) => c.transferOwnership(input, o)),
      joinServer: (_root: unknown, { input }: Input<{ serverId: string }>, context: Ctx) =>
        call(context, (c, o) => c.joinServer(input, o)),
      leaveServer: (_root: unknown, { input }: Input<{ serverId: string }>, context: Ctx) =>
        call(context, (c, o) => c.leaveServer(input, o)),
      kickMember: (
        _root: unknown,
        { input }: Input<{ serverId: string; userId: string; reason?: string | null }>,
        context: Ctx,
      ) =>
        call(context, (c, o) =>
          c.kickMember({ serverId: input.serverId, userId: input.userId, reason: input.reason ?? "" }, o),
        ),
      createInvite: (
        _root: unknown,
        { input }: Input<{ serverId: string; maxAgeSeconds?: number | null; maxUses?: number | null }>,
        context: Ctx,
      ) =>
        call(context, (c, o) =>
          c.createInvite(
            {
              serverId: input.serverId,
              maxAgeSeconds: input.maxAgeSeconds ?? 0,
              maxUses: input.maxUses ?? 0,
            },
            o,
          ),
        ),
      revokeInvite: (_root: unknown, { input }: Input<{ serverId: string; code: string }>, context: Ctx) =>
        call(context, (c, o) => c.revokeInvite(input, o)),
      joinServerByInvite: (_root: unknown, { input }: Input<{ code: string }>, context: Ctx) =>
        call(context, (c, o) => c.joinByInvite(input, o)),
      createChannel: (
        _root: unknown,
        {
          input,
        }: Input<{
          serverId: string;
          name: string;
          type?: string | null;
          parentId?: string | null;
          topic?: string | null;
        }>,
        context: Ctx,
      ) =>
        call(context, (c, o) =>
          c.createChannel(
            {
              serverId: input.serverId,
              name: input.name,
              type: input.type ?? "text",
              parentId: input.parentId ?? "",
              topic: input.topic ?? "",
            },
            o,
          ),
        ),
      updateChannel: (
        _root: unknown,
        {
          input,
        }: Input<{
          channelId: string;
          name?: string | null;
          topic?: string | null;
          position?: number | null;
          parentId?: string | null;
          syncPermissions?: boolean | null;
        }>,
        context: Ctx,
      ) =>
        call(context, (c, o) =>
          c.updateChannel(
            {
              channelId: input.channelId,
              name: given(input.name),
              topic: given(input.topic),
              position: given(input.position),
              parentId: given(input.parentId),
              syncPermissions: given(input.syncPermissions),
            },
            o,
          ),
        ),
      deleteChannel: (_root: unknown, { input }: Input<{ channelId: string }>, context: Ctx) =>
        call(context, (c, o) => c.deleteChannel(input, o)),
      createRole: (
        _root: unknown,
        {
          input,
        }: Input<{ serverId: string; name: string; color?: number | null; permissions?: string | null }>,
        context: Ctx,
      ) =>
        call(context, (c, o) =>
          c.createRole(
            {
              serverId: input.serverId,
              name: input.name,
              color: input.color ?? 0,
              permissions: input.permissions ?? "0",
            },
            o,
          ),
        ),
      updateRole: (
        _root: unknown,
        {
          input,
        }: Input<{
          serverId: string;
          roleId: string;
          name?: string | null;
          color?: number | null;
          permissions?: string | null;
          position?: number | null;
        }>,
        context: Ctx,
      ) =>
        call(context, (c, o) =>
          c.updateRole(
            {
              serverId: input.serverId,
              roleId: input.roleId,
              name: given(input.name),
              color: given(input.color),
              permissions: given(input.permissions),
              position: given(input.position),
            },
            o,
          ),
        ),
      deleteRole: (_root: unknown, { input }: Input<{ serverId: string; roleId: string }>, context: Ctx) =>
        call(context, (c, o) => c.deleteRole(input, o)),
      assignRole: (
        _root: unknown,
        { input }: Input<{ serverId: string; roleId: string; userId: string }>,
        context: Ctx,
      ) => call(context, (c, o) => c.assignRole(input, o)),
      removeRole: (
        _root: unknown,
        { input }: Input<{ serverId: string; roleId: string; userId: string }>,
        context: Ctx,
      ) => call(context, (c, o) => c.removeRole(input, o)),
      setChannelOverwrite: (
        _root: unknown,
        {
          input,
        }: Input<{
          channelId: string;
          targetType: string;
          targetId: string;
          allow?: string | null;
          deny?: string | null;
        }>,
        context: Ctx,
      ) =>
        call(context, (c, o) =>
          c.setChannelOverwrite(
            {
              channelId: input.channelId,
              targetType: input.targetType,
              targetId: input.targetId,
              allow: input.allow ?? "0",
              deny: input.deny ?? "0",
            },
            o,
          ),
        ),
      deleteChannelOverwrite: (
        _root: unknown,
        { input }: Input<{ channelId: string; targetType: string; targetId: string }>,
        context: Ctx,
      ) => call(context, (c, o) => c.deleteChannelOverwrite(input, o)),
    },
  },
};
