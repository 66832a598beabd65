import { ModerationService } from "@beep/proto/gen/beep/servers/v1/moderation_pb.ts";
import type { GatewayContext } from "../gateway.context.ts";
import { asViewer, type SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  "What an audit log entry records (SRV-9)."
  enum AuditLogAction {
    "The server's profile was edited."
    SERVER_UPDATE
    "A channel was created."
    CHANNEL_CREATE
    "A channel was edited."
    CHANNEL_UPDATE
    "A channel (and a folder's channels) was deleted."
    CHANNEL_DELETE
    "A channel overwrite was set."
    CHANNEL_OVERWRITE_SET
    "A channel overwrite was removed."
    CHANNEL_OVERWRITE_DELETE
    "A role was created."
    ROLE_CREATE
    "A role was edited."
    ROLE_UPDATE
    "A role was deleted."
    ROLE_DELETE
    "A member was given a role."
    MEMBER_ROLE_ADD
    "A role was taken from a member."
    MEMBER_ROLE_REMOVE
    "A member was kicked."
    MEMBER_KICK
    "A user was banned."
    MEMBER_BAN_ADD
    "A ban was lifted."
    MEMBER_BAN_REMOVE
    "A member was timed out."
    MEMBER_TIMEOUT
    "A member's timeout was ended."
    MEMBER_TIMEOUT_CLEAR
    "An invite was created."
    INVITE_CREATE
    "An invite was revoked."
    INVITE_REVOKE
  }

  "A user banned from a server (SRV-6)."
  type Ban {
    "The server."
    serverId: ID!
    "The banned user."
    userId: ID!
    "Who banned them."
    actorId: ID!
    "Why; may be empty."
    reason: String!
    "When."
    createdAt: DateTime!
  }

  "One entry of a server's audit log (SRV-9)."
  type AuditLogEntry {
    "Opaque id; pass as before to page."
    id: ID!
    "Who acted."
    actorId: ID!
    "What was done."
    action: AuditLogAction!
    "What it was done to: server, channel, role, member, user or invite."
    targetType: String!
    "The target's id (an invite's code)."
    targetId: String!
    "Why; may be empty."
    reason: String!
    "What changed, as a JSON object string."
    changes: String!
    "When."
    createdAt: DateTime!
  }

  "A page of the audit log, newest first."
  type AuditLogPage {
    "The entries."
    entries: [AuditLogEntry!]!
    "Pass as before for the next page; null when there is none."
    nextCursor: ID
  }

  type Query {
    "The server's bans, newest first (BAN_MEMBERS). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN."
    bans(serverId: ID!): [Ban!]!
    "The server's audit log, newest first (VIEW_AUDIT_LOG); limit 1–100 (default 50). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT."
    auditLog(serverId: ID!, before: ID, limit: Int, action: AuditLogAction): AuditLogPage!
  }

  "Input of banMember."
  input BanMemberInput {
    "The server."
    serverId: ID!
    "The user to ban (a member or not)."
    userId: ID!
    "Why; up to 512 characters; kept in the audit log."
    reason: String
    "Delete their messages of this many last seconds (0 to 604800)."
    deleteMessageSeconds: Int
  }

  "Result of banMember."
  type BanMemberPayload {
    "The ban."
    ban: Ban!
  }

  "Input of unbanMember."
  input UnbanMemberInput {
    "The server."
    serverId: ID!
    "The banned user."
    userId: ID!
    "Why; up to 512 characters; kept in the audit log."
    reason: String
  }

  "Result of unbanMember."
  type UnbanMemberPayload {
    "The user no longer banned."
    userId: ID!
  }

  "Input of timeoutMember."
  input TimeoutMemberInput {
    "The server."
    serverId: ID!
    "The member."
    userId: ID!
    "When the timeout ends: in the future, at most 28 days ahead."
    until: DateTime!
    "Why; up to 512 characters; kept in the audit log."
    reason: String
  }

  "Input of clearMemberTimeout."
  input ClearMemberTimeoutInput {
    "The server."
    serverId: ID!
    "The member."
    userId: ID!
    "Why; up to 512 characters; kept in the audit log."
    reason: String
  }

  "Result of timeoutMember and clearMemberTimeout."
  type MemberTimeoutPayload {
    "The member."
    userId: ID!
    "When their timeout ends; null when not timed out."
    timedOutUntil: DateTime
  }

  type Mutation {
    "Bans a user (BAN_MEMBERS, outranking them; never the owner or oneself); they leave and cannot rejoin. Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT."
    banMember(input: BanMemberInput!): BanMemberPayload!
    "Lifts a ban (BAN_MEMBERS). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN."
    unbanMember(input: UnbanMemberInput!): UnbanMemberPayload!
    "Times a member out: they keep only VIEW_CHANNEL and READ_MESSAGE_HISTORY (MODERATE_MEMBERS, outranking them). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT."
    timeoutMember(input: TimeoutMemberInput!): MemberTimeoutPayload!
    "Ends a member's timeout (MODERATE_MEMBERS, outranking them). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN."
    clearMemberTimeout(input: ClearMemberTimeoutInput!): MemberTimeoutPayload!
  }
`;

type Ctx = GatewayContext;
type Input<T> = { input: T };
type Rpc = ReturnType<typeof rpc>;

const rpc = (context: Ctx) => context.clients.client(ModerationService);
/** Calls ModerationService as the viewer. */
const call = <T>(context: Ctx, run: (client: Rpc, options: ReturnType<typeof asViewer>) => Promise<T>) =>
  run(rpc(context), asViewer(context));

const timeoutPayload = (response: { userId: string; timedOutUntil: string }) => ({
  userId: response.userId,
  timedOutUntil: response.timedOutUntil || null,
});

/** Bans, timeouts and the audit log (SRV-6, SRV-9, SRV-10). */
export const moderationSchema: SchemaModule = {
  typeDefs,
  resolvers: {
    AuditLogEntry: {
      changes: (entry: { changesJson: string }) => entry.changesJson,
    },
    Query: {
      bans: (_root: unknown, { serverId }: { serverId: string }, context: Ctx) =>
        call(context, async (c, o) => (await c.listBans({ serverId }, o)).bans),
      auditLog: (
        _root: unknown,
        args: { serverId: string; before?: string | null; limit?: number | null; action?: string | null },
        context: Ctx,
      ) =>
        call(context, async (c, o) => {
          const page = await c.listAuditLog(
            {
              serverId: args.serverId,
              before: args.before ?? "",
              limit: args.limit ?? 0,
              action: args.action ?? "",
            },
            o,
          );
          return { entries: page.entries, nextCursor: page.nextCursor || null };
        }),
    },
    Mutation: {
      banMember: (
        _root: unknown,
        {
          input,
        }: Input<{
          serverId: string;
          userId: string;
          reason?: string | null;
          deleteMessageSeconds?: number | null;
        }>,
        context: Ctx,
      ) =>
        call(context, (c, o) =>
          c.banMember(
            {
              serverId: input.serverId,
              userId: input.userId,
              reason: input.reason ?? "",
              deleteMessageSeconds: input.deleteMessageSeconds ?? 0,
            },
            o,
          ),
        ),
      unbanMember: (
        _root: unknown,
        { input }: Input<{ serverId: string; userId: string; reason?: string | null }>,
        context: Ctx,
      ) => call(context, (c, o) => c.unbanMember({ ...input, reason: input.reason ?? "" }, o)),
      timeoutMember: (
        _root: unknown,
        { input }: Input<{ serverId: string; userId: string; until: unknown; reason?: string | null }>,
        context: Ctx,
      ) =>
        call(context, async (c, o) =>
          timeoutPayload(
            await c.timeoutMember(
              {
                serverId: input.serverId,
                userId: input.userId,
                until: input.until instanceof Date ? input.until.toISOString() : String(input.until),
                reason: input.reason ?? "",
              },
              o,
            ),
          ),
        ),
      clearMemberTimeout: (
        _root: unknown,
        { input }: Input<{ serverId: string; userId: string; reason?: string | null }>,
        context: Ctx,
      ) =>
        call(context, async (c, o) =>
          timeoutPayload(await c.clearTimeout({ ...input, reason: input.reason ?? "" }, o)),
        ),
    },
  },
};
