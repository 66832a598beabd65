// ROLE-4, as Discord documents its "Permission Hierarchy": a member's highest
// role is the one with the greatest position, @everyone being 0; one manages
// only what is strictly below it. These checks are about rank only: callers
// still check the permission itself (MANAGE_ROLES, KICK_MEMBERS, …), and
// ADMINISTRATOR does not lift the hierarchy (as in Discord).
import { PERMISSIONS } from "./permission-bits.ts";

/** A role's identity and its position in the server's role list (@everyone = 0). */
export interface RankedRole {
  id: string;
  position: number;
}

/** A member and the roles they hold (with or without @everyone). */
export interface HierarchyMember {
  memberId: string;
  roles: readonly RankedRole[];
}

/** The member acting, and the server's owner (who is above everyone). */
export interface HierarchyActor extends HierarchyMember {
  ownerId: string;
}

/**
 * The position of a member's highest role; 0 (@everyone) when they hold no
 * other role. Equal positions count as "at": nobody outranks a peer, which is
 * the safe reading when two roles share a position.
 */
export function highestRolePosition(roles: readonly RankedRole[]): number {
  let highest = 0;
  for (const role of roles) if (role.position > highest) highest = role.position;
  return highest;
}

/** Whether the actor may edit, assign, remove or reorder `role`: owner, or highest role strictly above it. */
export function canManageRole(actor: HierarchyActor, role: RankedRole): boolean {
  if (actor.memberId === actor.ownerId) return true;
  return highestRolePosition(actor.roles) > role.position;
}

/**
 * Whether the actor may act on `target` (kick, ban, time out, change roles or
 * nickname): the owner may act on anyone; nobody else may act on the owner,
 * on themselves, or on a member whose highest role is at or above theirs.
 */
export function canManageMember(actor: HierarchyActor, target: HierarchyMember): boolean {
  if (actor.memberId === actor.ownerId) return true;
  if (target.memberId === actor.ownerId) return false;
  return highestRolePosition(actor.roles) > highestRolePosition(target.roles);
}

/**
 * The requested bits the actor may not grant (to a role or an overwrite):
 * those they lack; none for ADMINISTRATOR holders (the owner's permissions
 * are ALL, so the owner too may grant anything).
 */
export function ungrantablePermissions(actorPermissions: bigint, requestedBits: bigint): bigint {
  if ((actorPermissions & PERMISSIONS.ADMINISTRATOR) !== 0n) return 0n;
  return requestedBits & ~actorPermissions;
}

/** Whether the actor may grant every requested bit: nobody grants what they do not have. */
export function canGrant(actorPermissions: bigint, requestedBits: bigint): boolean {
  return ungrantablePermissions(actorPermissions, requestedBits) === 0n;
}
