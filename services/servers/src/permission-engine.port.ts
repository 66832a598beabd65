/**
 * TEMPORARY minimal permission engine (ROLE-3), until the real one in
 * `./permissions/` is merged; the lead switches the imports to it. Same
 * signatures, Discord's documented algorithm, no explain trace.
 */

/** Permission flags with Discord's bit numbers (ROLE-2). */
export const Permission = {
  CREATE_INSTANT_INVITE: 1n << 0n,
  KICK_MEMBERS: 1n << 1n,
  BAN_MEMBERS: 1n << 2n,
  ADMINISTRATOR: 1n << 3n,
  MANAGE_CHANNELS: 1n << 4n,
  MANAGE_GUILD: 1n << 5n,
  ADD_REACTIONS: 1n << 6n,
  VIEW_AUDIT_LOG: 1n << 7n,
  STREAM: 1n << 9n,
  VIEW_CHANNEL: 1n << 10n,
  SEND_MESSAGES: 1n << 11n,
  MANAGE_MESSAGES: 1n << 13n,
  EMBED_LINKS: 1n << 14n,
  ATTACH_FILES: 1n << 15n,
  READ_MESSAGE_HISTORY: 1n << 16n,
  MENTION_EVERYONE: 1n << 17n,
  CONNECT: 1n << 20n,
  SPEAK: 1n << 21n,
  MUTE_MEMBERS: 1n << 22n,
  DEAFEN_MEMBERS: 1n << 23n,
  MOVE_MEMBERS: 1n << 24n,
  MANAGE_ROLES: 1n << 28n,
  MANAGE_WEBHOOKS: 1n << 29n,
  CREATE_PUBLIC_THREADS: 1n << 35n,
  SEND_MESSAGES_IN_THREADS: 1n << 38n,
  MODERATE_MEMBERS: 1n << 40n,
  PIN_MESSAGES: 1n << 51n,
} as const;

/** Every bit above. */
export const ALL_PERMISSIONS: bigint = Object.values(Permission).reduce((all, bit) => all | bit, 0n);

/** Who is asking, in which server: the input of the base computation. */
export interface BasePermissionsInput {
  ownerId: string;
  memberId: string;
  everyoneRole: { id: string; permissions: bigint };
  memberRoles: Array<{ id: string; permissions: bigint; position: number }>;
  timedOutUntil?: Date;
  now: Date;
}

/** One overwrite's bits. */
export interface OverwriteBits {
  allow: bigint;
  deny: bigint;
}

/** The base input plus one channel's overwrites. */
export interface ChannelPermissionsInput extends BasePermissionsInput {
  overwrites: {
    everyone?: OverwriteBits;
    roles: Array<{ id: string } & OverwriteBits>;
    member?: OverwriteBits;
  };
}

const TIMED_OUT_KEEPS = Permission.VIEW_CHANNEL | Permission.READ_MESSAGE_HISTORY;

function timedOut(input: BasePermissionsInput): boolean {
  return input.timedOutUntil !== undefined && input.timedOutUntil > input.now;
}

/** Server-level permissions: owner → all; @everyone | roles; ADMINISTRATOR → all. */
export function computeBasePermissions(input: BasePermissionsInput): bigint {
  if (input.memberId === input.ownerId) return ALL_PERMISSIONS;
  let bits = input.everyoneRole.permissions;
  for (const role of input.memberRoles) bits |= role.permissions;
  if ((bits & Permission.ADMINISTRATOR) !== 0n) return ALL_PERMISSIONS;
  return timedOut(input) ? bits & TIMED_OUT_KEEPS : bits;
}

/** Channel permissions: base, then @everyone, roles (combined), member overwrites; no VIEW_CHANNEL → 0n. */
export function computeChannelPermissions(input: ChannelPermissionsInput): bigint {
  const base = computeBasePermissions(input);
  if ((base & Permission.ADMINISTRATOR) !== 0n || input.memberId === input.ownerId) return ALL_PERMISSIONS;
  let bits = base;
  const { everyone, roles, member } = input.overwrites;
  if (everyone) bits = (bits & ~everyone.deny) | everyone.allow;
  const held = new Set(input.memberRoles.map((role) => role.id));
  let allow = 0n;
  let deny = 0n;
  for (const overwrite of roles) {
    if (!held.has(overwrite.id)) continue;
    allow |= overwrite.allow;
    deny |= overwrite.deny;
  }
  bits = (bits & ~deny) | allow;
  if (member) bits = (bits & ~member.deny) | member.allow;
  if (timedOut(input)) bits &= TIMED_OUT_KEEPS;
  return (bits & Permission.VIEW_CHANNEL) === 0n ? 0n : bits;
}
