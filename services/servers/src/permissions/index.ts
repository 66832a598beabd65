// The permission engine of Beep (ROLE-2, ROLE-3, ROLE-4, ROLE-6, SRV-10):
// Discord's model, pure functions over bigint bit sets. Each symbol's doc
// comment lives where it is defined.
export {
  type BasePermissionInput,
  type ChannelOverwrites,
  type ChannelPermissionInput,
  computeBasePermissions,
  computeChannelPermissions,
  isTimedOut,
  type PermissionOverwrite,
  type RolePermissions,
  SEND_MESSAGES_DEPENDENT_PERMISSIONS,
  TIMEOUT_ALLOWED_PERMISSIONS,
} from "./compute-permissions.ts";
export {
  type AccessDiff,
  diffAccess,
  explainBasePermissions,
  explainBit,
  explainChannelPermissions,
  type MemberAccessChange,
  type PermissionAccessChange,
  type PermissionExplanation,
  type PermissionStep,
  type PermissionStepKind,
  type PermissionVerdict,
} from "./explain-permissions.ts";
export {
  canGrant,
  canManageMember,
  canManageRole,
  type HierarchyActor,
  type HierarchyMember,
  highestRolePosition,
  type RankedRole,
  ungrantablePermissions,
} from "./hierarchy.ts";
export {
  ALL_PERMISSIONS,
  formatPermissions,
  hasPermissions,
  isPermissionName,
  NO_PERMISSIONS,
  PERMISSION_NAMES,
  PERMISSIONS,
  type PermissionName,
  parsePermissions,
  permissionNames,
  permissionsFromNames,
} from "./permission-bits.ts";
