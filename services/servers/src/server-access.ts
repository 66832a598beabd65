import { writeOutbox } from "@beep/bus";
import { BeepError } from "@beep/errors";
import type { Kysely, Transaction } from "kysely";
import { timedOutUntil } from "./moderation.repository.ts";
import {
  ALL_PERMISSIONS,
  computeBasePermissions,
  computeChannelPermissions,
  PERMISSIONS as Permission,
  ungrantablePermissions,
} from "./permissions/index.ts";
import type {
  ChannelRow,
  OverwriteRow,
  RoleRow,
  ServerRow,
  ServersRepository,
} from "./servers.repository.ts";
import { SERVERS_SCHEMA } from "./servers.schema-name.ts";
import type { ServersTables } from "./servers.tables.ts";

/** What a caller is and may do in one server, loaded once per request. */
export interface ServerAccess {
  server: ServerRow;
  userId: string;
  isOwner: boolean;
  /** Every role of the server, highest first; the last is @everyone. */
  roles: RoleRow[];
  everyone: RoleRow;
  /** The caller's roles besides @everyone. */
  memberRoles: RoleRow[];
  /** Server-level permissions. */
  base: bigint;
  /** Position of the caller's highest role (0 = only @everyone); Infinity for the owner, who outranks all. */
  highest: number;
  /** SRV-10: until when the caller is timed out (null if not); the engine applies it with `now`. */
  timedOutUntil: Date | null;
}

/** Limits against abuse (SRV-8), from config `servers.*`. */
export interface ServerLimits {
  maxServersPerUser: number;
  maxChannelsPerServer: number;
  maxRolesPerServer: number;
}

const SNOWFLAKE = /^\d{1,19}$/;

/** NOT_FOUND for an id the caller cannot see, so ids cannot be probed (ROLE-5). */
export function notFound(
  what: "server" | "channel" | "role" | "member" | "invite",
  field: string,
): BeepError {
  const label = { server: "server", channel: "channel", role: "role", member: "member", invite: "invite" }[
    what
  ];
  return new BeepError("NOT_FOUND", `No such ${label}`, { field });
}

/** Whether a string can be an id at all (a malformed id is simply not found). */
export function isId(value: string): boolean {
  return SNOWFLAKE.test(value);
}

/** Parses a decimal permission bit set; unknown bits are BAD_USER_INPUT. */
export function parseBits(value: string, field: string): bigint {
  if (value === "") return 0n;
  if (!/^\d{1,20}$/.test(value))
    throw new BeepError("BAD_USER_INPUT", "Expected a decimal bit set", { field });
  const bits = BigInt(value);
  if ((bits & ~ALL_PERMISSIONS) !== 0n)
    throw new BeepError("BAD_USER_INPUT", "Unknown permission bits", { field });
  return bits;
}

/** Loads permissions and hierarchy; every rule of the service reads them from here. */
export class AccessReader {
  constructor(private readonly repo: ServersRepository) {}

  /** The caller's access to a server they are a member of; NOT_FOUND otherwise. `lock` serialises the server's writes. */
  async load(
    db: Kysely<ServersTables>,
    serverId: string,
    userId: string,
    lock = false,
  ): Promise<ServerAccess> {
    if (!isId(serverId)) throw notFound("server", "serverId");
    const server = lock ? await this.repo.lockServer(db, serverId) : await this.repo.findServer(db, serverId);
    if (!server || !(await this.repo.isMember(db, serverId, userId))) throw notFound("server", "serverId");
    const roles = await this.repo.roles(db, serverId);
    const everyone = roles.find((role) => role.id === serverId);
    if (!everyone) throw new Error(`server ${serverId} has no @everyone role`);
    const held = new Set(await this.repo.memberRoleIds(db, serverId, userId));
    const memberRoles = roles.filter((role) => held.has(role.id));
    const isOwner = server.owner_id === userId;
    const timeout = await timedOutUntil(db, serverId, userId);
    const base = computeBasePermissions({
      timedOutUntil: timeout,
      ownerId: server.owner_id,
      memberId: userId,
      everyoneRole: { id: everyone.id, permissions: BigInt(everyone.permissions) },
      memberRoles: memberRoles.map(toEngineRole),
      now: new Date(),
    });
    return {
      server,
      userId,
      isOwner,
      roles,
      everyone,
      memberRoles,
      base,
      highest: isOwner ? Number.POSITIVE_INFINITY : Math.max(0, ...memberRoles.map((role) => role.position)),
      timedOutUntil: timeout,
    };
  }

  /** Another member's highest role position (Infinity for the owner); NOT_FOUND if not a member. */
  async highestOf(db: Kysely<ServersTables>, access: ServerAccess, userId: string): Promise<number> {
    if (!isId(userId) || !(await this.repo.isMember(db, access.server.id, userId))) {
      throw notFound("member", "userId");
    }
    if (access.server.owner_id === userId) return Number.POSITIVE_INFINITY;
    const held = new Set(await this.repo.memberRoleIds(db, access.server.id, userId));
    return Math.max(0, ...access.roles.filter((role) => held.has(role.id)).map((role) => role.position));
  }
}

/** The caller's permissions in one channel from the server's overwrites (0n when they cannot view it). */
export function channelPermissions(
  access: ServerAccess,
  channel: ChannelRow,
  overwrites: OverwriteRow[],
): bigint {
  const mine = overwrites.filter((o) => o.channel_id === channel.id);
  const bits = (o: OverwriteRow) => ({ allow: BigInt(o.allow), deny: BigInt(o.deny) });
  const everyone = mine.find((o) => o.target_type === "role" && o.target_id === access.server.id);
  const member = mine.find((o) => o.target_type === "member" && o.target_id === access.userId);
  const held = new Set(access.memberRoles.map((role) => role.id));
  return computeChannelPermissions({
    ownerId: access.server.owner_id,
    memberId: access.userId,
    everyoneRole: { id: access.everyone.id, permissions: BigInt(access.everyone.permissions) },
    memberRoles: access.memberRoles.map(toEngineRole),
    overwrites: {
      ...(everyone && { everyone: { id: access.everyone.id, ...bits(everyone) } }),
      roles: mine
        .filter((o) => o.target_type === "role" && held.has(o.target_id))
        .map((o) => ({ id: o.target_id, ...bits(o) })),
      ...(member && { member: { id: access.userId, ...bits(member) } }),
    },
    timedOutUntil: access.timedOutUntil,
    now: new Date(),
  });
}

/** FORBIDDEN unless `bits` holds every bit of `needed`. */
export function requireBits(bits: bigint, needed: bigint, action: string): void {
  if ((bits & needed) !== needed) throw new BeepError("FORBIDDEN", `Missing permission to ${action}`);
}

/** ROLE-4: FORBIDDEN unless the caller outranks `position`. */
export function requireAbove(access: ServerAccess, position: number, action: string): void {
  if (!(access.highest > position)) {
    throw new BeepError("FORBIDDEN", `You can only ${action} below your highest role`);
  }
}

/** Nobody grants bits they lack: every bit that changes must be one the caller holds. */
export function requireGrantable(held: bigint, before: bigint, after: bigint): void {
  if (ungrantablePermissions(held, before ^ after) !== 0n) {
    throw new BeepError("FORBIDDEN", "You cannot grant or revoke permissions you do not have");
  }
}

/** Records events in the servers outbox, in the caller's transaction. */
export async function emit(
  trx: Transaction<ServersTables>,
  events: Array<{ type: string; payload: Record<string, unknown> }>,
): Promise<void> {
  await writeOutbox(trx, SERVERS_SCHEMA, events);
}

function toEngineRole(role: RoleRow) {
  return { id: role.id, permissions: BigInt(role.permissions), position: role.position };
}

export { Permission };
