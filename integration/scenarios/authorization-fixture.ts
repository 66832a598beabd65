import { dataOf, type GraphqlResponse, graphql } from "../harness/graphql-client.ts";
import { signedInUser } from "./identity.scenarios.ts";

/** A signed-in user of a scenario. */
export type User = Awaited<ReturnType<typeof signedInUser>>;

/** Discord's bit numbers of the permissions the fixture hands out. */
export const P = {
  KICK_MEMBERS: 1n << 1n,
  BAN_MEMBERS: 1n << 2n,
  ADMINISTRATOR: 1n << 3n,
  MANAGE_CHANNELS: 1n << 4n,
  MANAGE_ROLES: 1n << 28n,
  MODERATE_MEMBERS: 1n << 40n,
  VIEW_CHANNEL: 1n << 10n,
  SEND_MESSAGES: 1n << 11n,
  EMBED_LINKS: 1n << 14n,
};

const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id channels { id } } } }`;
const CREATE_CHANNEL = `mutation ($input: CreateChannelInput!) { createChannel(input: $input) { channel { id } } }`;
const CREATE_ROLE = `mutation ($input: CreateRoleInput!) { createRole(input: $input) { role { id } } }`;
const ASSIGN_ROLE = `mutation ($input: MemberRoleInput!) { assignRole(input: $input) { member { userId } } }`;
const SET_OVERWRITE = `mutation ($input: SetChannelOverwriteInput!) { setChannelOverwrite(input: $input) { channel { id } } }`;
const CREATE_INVITE = `mutation ($input: CreateInviteInput!) { createInvite(input: $input) { invite { code } } }`;
const REVOKE_INVITE = `mutation ($input: RevokeInviteInput!) { revokeInvite(input: $input) { invite { code } } }`;
const JOIN_BY_INVITE = `mutation ($input: JoinServerByInviteInput!) { joinServerByInvite(input: $input) { server { id } } }`;
const BAN = `mutation ($input: BanMemberInput!) { banMember(input: $input) { ban { userId } } }`;
const TIMEOUT = `mutation ($input: TimeoutMemberInput!) { timeoutMember(input: $input) { userId } }`;
const SEND_SERVER_INVITE = `mutation ($input: SendServerInviteInput!) { sendServerInvite(input: $input) { invite { code } } }`;
/** A tiny PNG (magic number and filler), enough for the picture edge's type check. */
export const FIXTURE_PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(64, 9),
]);
const SEND = `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { message { id } } }`;
const ADD_REACTION = `mutation ($input: ReactionInput!) { addReaction(input: $input) { messageId } }`;
const START_THREAD = `mutation ($input: StartThreadInput!) { startThread(input: $input) { thread { id } } }`;

/**
 * Reactions, threads and read positions the matrix's message-extras entries aim at (MSG-9, MSG-11,
 * MSG-13), as the owner sees them.
 */
const MESSAGE_STATE = `query ($secretMessageId: ID!, $generalMessageId: ID!, $secretId: ID!, $serverId: ID!) {
  secret: message(id: $secretMessageId) { content pinned reactions { emoji count me } thread { id name messageCount } }
  general: message(id: $generalMessageId) { content pinned reactions { emoji count me } thread { id } }
  threads(channelId: $secretId) { id name messageCount }
  readStates(serverId: $serverId) { channelId lastReadMessageId unreadCount mentionCount }
}`;
const PIN = `mutation ($input: MessageIdInput!) { pinMessage(input: $input) { message { id } } }`;
/** A channel's messages and pins as the owner reads them (part of the state refusals must leave alone). */
const MESSAGES_STATE = `query ($channelId: ID!) {
  messages(channelId: $channelId, limit: 100) { messages { id authorId content editedAt pinned replyToId } }
  pins(channelId: $channelId) { id }
}`;

/**
 * Everything the owner can see of one server, read through the gateway. Timeouts have no read field of
 * their own; every timeout write records an audit entry in its transaction, so the audit log's head
 * stands for them (and for every other audited write).
 */
const STATE = `query ($id: ID!) {
  server(id: $id) {
    id name description public ownerId memberCount pictureUrl bannerUrl
    channels { id name type parentId position topic permissionsSynced overwrites { targetType targetId allow deny } }
    roles { id name color permissions position }
    members { userId roleIds owner }
  }
  invites(serverId: $id) { code uses revoked maxUses expiresAt }
  bans(serverId: $id) { userId reason }
  auditLog(serverId: $id, limit: 1) { entries { id action } }
}`;
/** A user's pending in-app invites: what sendServerInvite and declineInvite change for them. */
const PENDING_INVITES = `query { myInvites { code serverId inviterId expiresAt } }`;

/** The objects of a private server and the people around it; ids are what the matrix entries name. */
export interface AuthorizationFixture {
  url: string;
  owner: User;
  /** A plain member: @everyone only (a private server's @everyone has no CREATE_INSTANT_INVITE). */
  member: User;
  /** A member holding `crewRoleId`, timed out by the owner; the object of member-targeted operations. */
  target: User;
  /** Banned by the owner. */
  banned: User;
  /** A moderator (MANAGE_ROLES, MANAGE_CHANNELS, KICK, BAN, MODERATE_MEMBERS) whose role ranks below crew. */
  junior: User;
  /** Holds the junior mods' role too, and is timed out (SRV-10: only VIEW_CHANNEL, READ_MESSAGE_HISTORY left). */
  mutedJunior: User;
  /** Signed in, never a member. */
  stranger: User;
  /** Signed in, not a member, holding the owner's pending in-app invite `inAppCode`. */
  invitee: User;
  /** Owns `rivalServerId`, a server of their own, and names this server's objects through it. */
  rival: User;
  serverId: string;
  /** #general: every member views it. */
  generalId: string;
  /** In shelf; @everyone may not view it; crew may; target has a member overwrite. */
  secretId: string;
  /** A folder every member views, holding secret. */
  shelfId: string;
  /** A folder only crew may view. */
  folderId: string;
  /** In shelf; every member views it; unsynced from shelf by its crew overwrite (EMBED_LINKS). */
  lobbyId: string;
  crewRoleId: string;
  /** A live invite of the owner's (members joined with it). */
  inviteCode: string;
  /** A revoked invite of the owner's. */
  revokedCode: string;
  /** The owner's in-app invite to `invitee`, pending. */
  inAppCode: string;
  rivalServerId: string;
  rivalChannelId: string;
  rivalRoleId: string;
  /** The owner's message in #general, pinned; every member may read it; no reaction, no thread. */
  generalMessageId: string;
  /** The owner's message in #secret, pinned, with the owner's 👍 and a thread (secretThreadId) holding one message. */
  secretMessageId: string;
  secretThreadId: string;
}

/** Runs an operation as `who`. */
export function asUser<T = Record<string, unknown>>(
  url: string,
  who: User,
  query: string,
  variables: Record<string, unknown>,
): Promise<GraphqlResponse<T>> {
  return graphql<T>(url, query, variables, who.accessToken);
}

/** The first error's `extensions.code`, or undefined for a clean response. */
export const codeOf = (response: GraphqlResponse<unknown>) => response.errors?.[0]?.extensions?.code;

async function ok<T>(url: string, who: User, query: string, variables: Record<string, unknown>): Promise<T> {
  return dataOf(await asUser<T>(url, who, query, variables));
}

/**
 * Creates a private server with a user and its owner's roles, channels, invites (one in-app), a ban, a
 * timeout, and a picture and banner.
 */
export async function buildAuthorizationFixture(url: string): Promise<AuthorizationFixture> {
  const [owner, member, target, banned, junior, mutedJunior, stranger, rival, invitee] = await Promise.all([
    signedInUser(url),
    signedInUser(url),
    signedInUser(url),
    signedInUser(url),
    signedInUser(url),
    signedInUser(url),
    signedInUser(url),
    signedInUser(url),
    signedInUser(url),
  ]);
  type Created = { createServer: { server: { id: string; channels: Array<{ id: string }> } } };
  const created = (await ok<Created>(url, owner, CREATE_SERVER, { input: { name: "Matrix", public: false } }))
    .createServer.server;
  const serverId = created.id;
  const generalId = created.channels[0]?.id ?? "";
  const channel = async (name: string, type: string, parentId?: string) =>
    (
      await ok<{ createChannel: { channel: { id: string } } }>(url, owner, CREATE_CHANNEL, {
        input: { serverId, name, type, parentId },
      })
    ).createChannel.channel.id;
  const shelfId = await channel("shelf", "FOLDER");
  const secretId = await channel("secret", "TEXT", shelfId);
  const folderId = await channel("folder", "FOLDER");
  const lobbyId = await channel("lobby", "TEXT", shelfId);
  const crewRoleId = (
    await ok<{ createRole: { role: { id: string } } }>(url, owner, CREATE_ROLE, {
      input: { serverId, name: "crew", permissions: String(P.SEND_MESSAGES) },
    })
  ).createRole.role.id;
  // Created after crew, so it goes in below it (a new role takes position 1).
  const juniorRoleId = (
    await ok<{ createRole: { role: { id: string } } }>(url, owner, CREATE_ROLE, {
      input: {
        serverId,
        name: "junior mods",
        permissions: String(
          P.MANAGE_ROLES | P.MANAGE_CHANNELS | P.KICK_MEMBERS | P.BAN_MEMBERS | P.MODERATE_MEMBERS,
        ),
      },
    })
  ).createRole.role.id;
  const invite = async () =>
    (
      await ok<{ createInvite: { invite: { code: string } } }>(url, owner, CREATE_INVITE, {
        input: { serverId },
      })
    ).createInvite.invite.code;
  const inviteCode = await invite();
  const revokedCode = await invite();
  await ok(url, owner, REVOKE_INVITE, { input: { serverId, code: revokedCode } });
  for (const user of [member, target, banned, junior, mutedJunior]) {
    await ok(url, user, JOIN_BY_INVITE, { input: { code: inviteCode } });
  }
  await ok(url, owner, ASSIGN_ROLE, { input: { serverId, roleId: crewRoleId, userId: target.user.id } });
  for (const user of [junior, mutedJunior]) {
    await ok(url, owner, ASSIGN_ROLE, { input: { serverId, roleId: juniorRoleId, userId: user.user.id } });
  }
  const overwrite = (channelId: string, targetType: string, targetId: string, allow: bigint, deny: bigint) =>
    ok(url, owner, SET_OVERWRITE, {
      input: { channelId, targetType, targetId, allow: String(allow), deny: String(deny) },
    });
  await overwrite(secretId, "ROLE", serverId, 0n, P.VIEW_CHANNEL);
  await overwrite(secretId, "ROLE", crewRoleId, P.VIEW_CHANNEL, 0n);
  await overwrite(secretId, "MEMBER", target.user.id, P.EMBED_LINKS, 0n);
  await overwrite(generalId, "ROLE", crewRoleId, P.EMBED_LINKS, 0n);
  await overwrite(folderId, "ROLE", serverId, 0n, P.VIEW_CHANNEL);
  await overwrite(folderId, "ROLE", crewRoleId, P.VIEW_CHANNEL, 0n);
  // Its own edit unsyncs lobby from shelf, so syncing it again would drop crew's overwrite.
  await overwrite(lobbyId, "ROLE", crewRoleId, P.EMBED_LINKS, 0n);
  await ok(url, owner, BAN, { input: { serverId, userId: banned.user.id, reason: "matrix" } });
  const until = new Date(Date.now() + 3600_000).toISOString();
  for (const user of [target, mutedJunior]) {
    await ok(url, owner, TIMEOUT, { input: { serverId, userId: user.user.id, until } });
  }

  const message = async (channelId: string, content: string) => {
    const id = (
      await ok<{ sendMessage: { message: { id: string } } }>(url, owner, SEND, {
        input: { channelId, content },
      })
    ).sendMessage.message.id;
    await ok(url, owner, PIN, { input: { messageId: id } });
    return id;
  };
  const generalMessageId = await message(generalId, "hello, members");
  const secretMessageId = await message(secretId, "crew only");
  const inAppCode = (
    await ok<{ sendServerInvite: { invite: { code: string } } }>(url, owner, SEND_SERVER_INVITE, {
      input: { serverId, userId: invitee.user.id },
    })
  ).sendServerInvite.invite.code;
  // A picture and a banner, so a removal or replacement that leaked shows in the state.
  for (const kind of ["picture", "banner"]) {
    const uploaded = await fetch(`${url}/servers/${serverId}/${kind}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${owner.accessToken}`, "content-type": "image/png" },
      body: FIXTURE_PNG as unknown as BodyInit,
    });
    if (uploaded.status !== 200) throw new Error(`fixture ${kind} upload: ${uploaded.status}`);
  }

  const rivalServer = (
    await ok<Created>(url, rival, CREATE_SERVER, { input: { name: "Rival", public: true } })
  ).createServer.server;
  const rivalRoleId = (
    await ok<{ createRole: { role: { id: string } } }>(url, rival, CREATE_ROLE, {
      input: { serverId: rivalServer.id, name: "rival crew" },
    })
  ).createRole.role.id;
  const sent = async (input: Record<string, unknown>) =>
    (await ok<{ sendMessage: { message: { id: string } } }>(url, owner, SEND, { input })).sendMessage.message
      .id;
  await ok(url, owner, ADD_REACTION, { input: { messageId: secretMessageId, emoji: "👍" } });
  const secretThreadId = (
    await ok<{ startThread: { thread: { id: string } } }>(url, owner, START_THREAD, {
      input: { messageId: secretMessageId, name: "matrix thread" },
    })
  ).startThread.thread.id;
  await sent({ channelId: secretId, threadId: secretThreadId, content: "in the thread" });
  return {
    url,
    owner,
    member,
    target,
    banned,
    junior,
    mutedJunior,
    stranger,
    rival,
    invitee,
    serverId,
    generalId,
    secretId,
    shelfId,
    folderId,
    lobbyId,
    crewRoleId,
    inviteCode,
    revokedCode,
    inAppCode,
    rivalServerId: rivalServer.id,
    rivalChannelId: rivalServer.channels[0]?.id ?? "",
    rivalRoleId,
    generalMessageId,
    secretMessageId,
    secretThreadId,
  };
}

/** Adds `user` to the fixture's server with a role holding ADMINISTRATOR (below the owner). */
export async function makeAdmin(fixture: AuthorizationFixture, user: User): Promise<void> {
  const { url, owner, serverId } = fixture;
  await ok(url, user, JOIN_BY_INVITE, { input: { code: fixture.inviteCode } });
  const roleId = (
    await ok<{ createRole: { role: { id: string } } }>(url, owner, CREATE_ROLE, {
      input: { serverId, name: "admins", permissions: String(P.ADMINISTRATOR) },
    })
  ).createRole.role.id;
  await ok(url, owner, ASSIGN_ROLE, { input: { serverId, roleId, userId: user.user.id } });
}

/** One server's state as {@link STATE} reads it (the fields the scenarios adjust are typed). */
export interface ServerState {
  server: { memberCount: number; members: Array<{ userId: string }> } & Record<string, unknown>;
  invites: unknown[];
  bans: Array<{ userId: string; reason: string }>;
  auditLog: { entries: Array<{ id: string; action: string }> };
}

/**
 * The state every refused operation must leave as it was: the fixture's server as its owner sees it,
 * the rival's server as the rival sees it (a rival's attempt that leaked would change their own), and
 * the pending in-app invites of the non-members an invite could be sent to, and the history and pins
 * of #general and secret.
 */
export async function stateOf(fixture: AuthorizationFixture): Promise<{
  server: ServerState;
  rivalServer: ServerState;
  pendingInvites: { invitee: unknown; stranger: unknown };
  messages: unknown;
  history: unknown[];
}> {
  const pending = (who: User) => ok<{ myInvites: unknown[] }>(fixture.url, who, PENDING_INVITES, {});
  const [server, rivalServer, invitee, stranger, messages, ...history] = await Promise.all([
    ok<ServerState>(fixture.url, fixture.owner, STATE, { id: fixture.serverId }),
    ok<ServerState>(fixture.url, fixture.rival, STATE, { id: fixture.rivalServerId }),
    pending(fixture.invitee),
    pending(fixture.stranger),
    ok<unknown>(fixture.url, fixture.owner, MESSAGE_STATE, {
      secretMessageId: fixture.secretMessageId,
      generalMessageId: fixture.generalMessageId,
      secretId: fixture.secretId,
      serverId: fixture.serverId,
    }),
    ...[fixture.generalId, fixture.secretId].map((channelId) =>
      ok<unknown>(fixture.url, fixture.owner, MESSAGES_STATE, { channelId }),
    ),
  ]);
  return {
    server,
    rivalServer,
    pendingInvites: { invitee: invitee.myInvites, stranger: stranger.myInvites },
    messages,
    history,
  };
}
