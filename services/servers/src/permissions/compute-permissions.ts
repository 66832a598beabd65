// Effective permissions exactly as Discord documents them (developer docs,
// "Permissions": Permission Overwrites, Implicit Permissions, Permissions for
// Timed Out Members). Pure functions over bigints: no I/O, no clock (the
// caller passes `now`), so every service can call them on its hot path.
//
// Folders (ROLE-3): a channel that syncs with its folder has no overwrites of
// its own; the CALLER passes the folder's overwrites for it (Discord's
// "permission syncing" copies, it does not inherit at compute time). This
// module never looks a folder up.
//
// Implicit rules applied: the two the docs spell out bit by bit (no
// VIEW_CHANNEL → nothing; no SEND_MESSAGES → no MENTION_EVERYONE,
// ATTACH_FILES, EMBED_LINKS). Not applied: the voice rule ("denying CONNECT
// also implicitly denies other permissions such as MANAGE_CHANNEL"), whose
// docs name no exact set, so callers of voice features check CONNECT
// themselves. Input bits are expected within ALL_PERMISSIONS (what
// parsePermissions returns).
import { ALL_PERMISSIONS, PERMISSIONS } from "./permission-bits.ts";

/** A role as the engine sees it: its id, optional display name, server-level bits. */
export interface RolePermissions {
  id: string;
  name?: string;
  permissions: bigint;
}

/** One channel overwrite (for @everyone, a role or a member): bits it denies and allows. */
export interface PermissionOverwrite {
  /** The role id (or @everyone role id), or the member id for a member overwrite. */
  id: string;
  name?: string;
  allow: bigint;
  deny: bigint;
}

/**
 * The overwrites of one channel that may concern a member. `roles` may hold
 * every role overwrite of the channel: only those of the member's roles
 * apply. `member` applies only when its id is the member's.
 */
export interface ChannelOverwrites {
  everyone?: PermissionOverwrite | null;
  roles: readonly PermissionOverwrite[];
  member?: PermissionOverwrite | null;
}

/** Inputs of {@link computeBasePermissions}: who the member is and which roles they hold. */
export interface BasePermissionInput {
  ownerId: string;
  memberId: string;
  /** The server's @everyone role (every member has it). */
  everyoneRole: RolePermissions;
  /** The member's other roles (the @everyone role may be included; it changes nothing). */
  memberRoles: readonly RolePermissions[];
  /** SRV-10: the member is timed out while `now < timedOutUntil`. */
  timedOutUntil?: Date | null;
  /** Required when `timedOutUntil` is set (the engine never reads the clock). */
  now?: Date;
}

/** Inputs of {@link computeChannelPermissions}: base inputs plus the channel's overwrites and the time. */
export interface ChannelPermissionInput extends BasePermissionInput {
  overwrites: ChannelOverwrites;
  now: Date;
}

/** Bits a timed-out member keeps (Discord: "Permissions for Timed Out Members"). */
export const TIMEOUT_ALLOWED_PERMISSIONS: bigint =
  PERMISSIONS.VIEW_CHANNEL | PERMISSIONS.READ_MESSAGE_HISTORY;

/**
 * Bits implicitly denied without SEND_MESSAGES (Discord: "Implicit
 * Permissions"; SEND_TTS_MESSAGES, also listed there, is not a Beep flag).
 */
export const SEND_MESSAGES_DEPENDENT_PERMISSIONS: bigint =
  PERMISSIONS.MENTION_EVERYONE | PERMISSIONS.ATTACH_FILES | PERMISSIONS.EMBED_LINKS;

/** True when the member is timed out at `now` (SRV-10). */
export function isTimedOut(timedOutUntil: Date | null | undefined, now: Date | undefined): boolean {
  if (timedOutUntil == null) return false;
  if (now === undefined) throw new TypeError("permissions: `now` is required when `timedOutUntil` is set");
  return timedOutUntil.getTime() > now.getTime();
}

/** @everyone | every role, before any ADMINISTRATOR or timeout rule. */
function roleUnion(input: BasePermissionInput): bigint {
  let permissions = input.everyoneRole.permissions;
  for (const role of input.memberRoles) permissions |= role.permissions;
  return permissions;
}

/**
 * Server-level permissions (no channel): the owner has all; otherwise
 * @everyone | the member's roles; ADMINISTRATOR grants all. A timed-out
 * member (not owner, not ADMINISTRATOR) keeps only VIEW_CHANNEL and
 * READ_MESSAGE_HISTORY.
 */
export function computeBasePermissions(input: BasePermissionInput): bigint {
  if (input.memberId === input.ownerId) return ALL_PERMISSIONS;
  const permissions = roleUnion(input);
  if ((permissions & PERMISSIONS.ADMINISTRATOR) !== 0n) return ALL_PERMISSIONS;
  return isTimedOut(input.timedOutUntil, input.now) ? permissions & TIMEOUT_ALLOWED_PERMISSIONS : permissions;
}

/**
 * Whether a role overwrite with this id concerns the member: one of their
 * roles other than @everyone (whose overwrite has its own slot, applied once).
 */
export function roleOverwriteApplies(input: BasePermissionInput, roleId: string): boolean {
  if (roleId === input.everyoneRole.id) return false;
  for (const role of input.memberRoles) if (role.id === roleId) return true;
  return false;
}

/**
 * Permissions of a member in one channel, in Discord's documented order:
 * owner → all; base = @everyone | roles; ADMINISTRATOR → all (overwrites
 * bypassed); @everyone overwrite deny then allow; the member's roles'
 * overwrites, all denies combined then all allows combined; the member
 * overwrite deny then allow. Then the implicit rules: without VIEW_CHANNEL
 * nothing at all; without SEND_MESSAGES no MENTION_EVERYONE, ATTACH_FILES,
 * EMBED_LINKS. Then SRV-10: a timed-out member keeps only VIEW_CHANNEL and
 * READ_MESSAGE_HISTORY. ADMINISTRATOR counts only from server-level roles,
 * never from an overwrite (as in Discord's pseudocode).
 */
export function computeChannelPermissions(input: ChannelPermissionInput): bigint {
  if (input.memberId === input.ownerId) return ALL_PERMISSIONS;
  let permissions = roleUnion(input);
  if ((permissions & PERMISSIONS.ADMINISTRATOR) !== 0n) return ALL_PERMISSIONS;

  const { everyone, roles, member } = input.overwrites;
  if (everyone) permissions = (permissions & ~everyone.deny) | everyone.allow;
  let allow = 0n;
  let deny = 0n;
  for (const overwrite of roles) {
    if (roleOverwriteApplies(input, overwrite.id)) {
      allow |= overwrite.allow;
      deny |= overwrite.deny;
    }
  }
  permissions = (permissions & ~deny) | allow;
  if (member && member.id === input.memberId) permissions = (permissions & ~member.deny) | member.allow;

  if ((permissions & PERMISSIONS.VIEW_CHANNEL) === 0n) return 0n;
  if ((permissions & PERMISSIONS.SEND_MESSAGES) === 0n) permissions &= ~SEND_MESSAGES_DEPENDENT_PERMISSIONS;
  if (isTimedOut(input.timedOutUntil, input.now)) permissions &= TIMEOUT_ALLOWED_PERMISSIONS;
  return permissions;
}
