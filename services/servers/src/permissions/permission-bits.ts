import { BeepError } from "@beep/errors";

/**
 * The permission flags of ROLE-2, each on Discord's own bit (developer docs,
 * "Bitwise Permission Flags"), so bots and importers map 1:1. Discord flags
 * Beep does not implement (PRIORITY_SPEAKER, USE_VAD, …) are absent on purpose:
 * their bits stay free and {@link parsePermissions} rejects them.
 */
export const PERMISSIONS = {
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
} as const satisfies Record<string, bigint>;

/** The name of one permission flag, e.g. `"VIEW_CHANNEL"`. */
export type PermissionName = keyof typeof PERMISSIONS;

/** Every permission name, in ascending bit order. */
export const PERMISSION_NAMES: readonly PermissionName[] = (
  Object.keys(PERMISSIONS) as PermissionName[]
).sort((a, b) => (PERMISSIONS[a] < PERMISSIONS[b] ? -1 : 1));

/** Every known bit set: what the owner and ADMINISTRATOR holders have. */
export const ALL_PERMISSIONS: bigint = PERMISSION_NAMES.reduce((all, name) => all | PERMISSIONS[name], 0n);

/** The empty permission set. */
export const NO_PERMISSIONS = 0n;

// 2^52 has 16 decimal digits; anything longer is not a permission set, and
// refusing it before BigInt() keeps a huge string from costing CPU.
const MAX_DIGITS = 20;
const DIGITS = /^[0-9]+$/;

function shown(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}

/**
 * Parses permission bits sent as a decimal string (ROLE-2: "bits travel as
 * decimal strings", as in Discord's API). Rejects with BAD_USER_INPUT naming
 * the value: an empty string, a sign, anything but digits, and any bit
 * outside {@link ALL_PERMISSIONS}.
 */
export function parsePermissions(value: string, field = "permissions"): bigint {
  if (typeof value !== "string" || value.length > MAX_DIGITS || !DIGITS.test(value)) {
    throw new BeepError(
      "BAD_USER_INPUT",
      `${field} "${shown(String(value))}" is not a permission set: expected a decimal string of digits`,
      { field },
    );
  }
  const bits = BigInt(value);
  const unknown = bits & ~ALL_PERMISSIONS;
  if (unknown !== 0n) {
    throw new BeepError(
      "BAD_USER_INPUT",
      `${field} "${value}" has unknown permission bits ${unknown.toString()}`,
      { field },
    );
  }
  return bits;
}

/**
 * Formats permission bits as the decimal string the API carries. Throws a
 * RangeError (a bug, not user input) for negative values or unknown bits.
 */
export function formatPermissions(bits: bigint): string {
  if (bits < 0n || (bits & ~ALL_PERMISSIONS) !== 0n) {
    throw new RangeError(`formatPermissions: ${bits.toString()} is not a set of known permission bits`);
  }
  return bits.toString(10);
}

/** True when `name` is a known permission name. */
export function isPermissionName(name: string): name is PermissionName {
  return Object.hasOwn(PERMISSIONS, name);
}

/** The names of the known bits set in `bits`, in ascending bit order. */
export function permissionNames(bits: bigint): PermissionName[] {
  return PERMISSION_NAMES.filter((name) => (bits & PERMISSIONS[name]) !== 0n);
}

/**
 * The bits of a list of permission names; BAD_USER_INPUT naming the first
 * unknown name.
 */
export function permissionsFromNames(names: readonly string[], field = "permissions"): bigint {
  let bits = 0n;
  for (const name of names) {
    if (!isPermissionName(name)) {
      throw new BeepError("BAD_USER_INPUT", `${field}: unknown permission "${shown(name)}"`, { field });
    }
    bits |= PERMISSIONS[name];
  }
  return bits;
}

/** True when `permissions` holds every bit of `required`. */
export function hasPermissions(permissions: bigint, required: bigint): boolean {
  return (permissions & required) === required;
}
