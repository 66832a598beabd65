// ROLE-6: the same computation as compute-permissions.ts, step by step, so a
// moderator can see why a member has or lacks a bit. compute-permissions.ts
// stays the fast path; a property test holds the two equal.
import {
  type BasePermissionInput,
  type ChannelPermissionInput,
  isTimedOut,
  type PermissionOverwrite,
  type RolePermissions,
  roleOverwriteApplies,
  SEND_MESSAGES_DEPENDENT_PERMISSIONS,
  TIMEOUT_ALLOWED_PERMISSIONS,
} from "./compute-permissions.ts";
import { ALL_PERMISSIONS, PERMISSION_NAMES, PERMISSIONS, type PermissionName } from "./permission-bits.ts";

/** What a trace step is, in the order steps can occur. */
export type PermissionStepKind =
  | "owner"
  | "everyone-role"
  | "role"
  | "administrator"
  | "everyone-overwrite-deny"
  | "everyone-overwrite-allow"
  | "role-overwrite-deny"
  | "role-overwrite-allow"
  | "member-overwrite-deny"
  | "member-overwrite-allow"
  | "implicit-view-channel"
  | "implicit-send-messages"
  | "timeout";

/**
 * One step of the computation. Replaying the steps from 0 with
 * `value = (value & ~cleared) | set` gives each `after` and, at the end, the
 * final permissions. `set` and `cleared` are the bits this step really
 * changed (a deny of a bit already absent clears nothing).
 */
export interface PermissionStep {
  kind: PermissionStepKind;
  /** The role, overwrite or member the step comes from; null for a rule (implicit, timeout). */
  source: { id: string; name?: string } | null;
  set: bigint;
  cleared: bigint;
  /** The permissions after this step. */
  after: bigint;
  /** A short sentence for humans. */
  reason: string;
}

/** The final permissions and the ordered steps that produced them. */
export interface PermissionExplanation {
  permissions: bigint;
  steps: PermissionStep[];
}

class Tracer {
  value = 0n;
  readonly steps: PermissionStep[] = [];

  apply(kind: PermissionStepKind, source: PermissionStep["source"], next: bigint, reason: string): void {
    const set = next & ~this.value;
    const cleared = this.value & ~next;
    this.value = next;
    this.steps.push({ kind, source, set, cleared, after: next, reason });
  }

  /** An overwrite's deny step; no step when it denies nothing. */
  deny(kind: PermissionStepKind, overwrite: PermissionOverwrite, reason: string): void {
    if (overwrite.deny !== 0n) this.apply(kind, sourceOf(overwrite), this.value & ~overwrite.deny, reason);
  }

  /** An overwrite's allow step; no step when it allows nothing. */
  allow(kind: PermissionStepKind, overwrite: PermissionOverwrite, reason: string): void {
    if (overwrite.allow !== 0n) this.apply(kind, sourceOf(overwrite), this.value | overwrite.allow, reason);
  }

  done(): PermissionExplanation {
    return { permissions: this.value, steps: this.steps };
  }
}

function sourceOf(item: RolePermissions | PermissionOverwrite): { id: string; name?: string } {
  return item.name === undefined ? { id: item.id } : { id: item.id, name: item.name };
}

/** Owner, @everyone, roles, ADMINISTRATOR; true when the computation is over (owner or admin). */
function traceBase(input: BasePermissionInput, tracer: Tracer): boolean {
  if (input.memberId === input.ownerId) {
    tracer.apply("owner", { id: input.memberId }, ALL_PERMISSIONS, "the server owner has every permission");
    return true;
  }
  const everyone = input.everyoneRole;
  tracer.apply("everyone-role", sourceOf(everyone), everyone.permissions, "every member has @everyone");
  for (const role of input.memberRoles) {
    tracer.apply("role", sourceOf(role), tracer.value | role.permissions, "a role of the member");
  }
  if ((tracer.value & PERMISSIONS.ADMINISTRATOR) !== 0n) {
    const granting = [everyone, ...input.memberRoles].find(
      (role) => (role.permissions & PERMISSIONS.ADMINISTRATOR) !== 0n,
    );
    tracer.apply(
      "administrator",
      granting ? sourceOf(granting) : null,
      ALL_PERMISSIONS,
      "ADMINISTRATOR grants every permission and bypasses channel overwrites and timeouts",
    );
    return true;
  }
  return false;
}

function traceTimeout(input: BasePermissionInput, tracer: Tracer): void {
  if (isTimedOut(input.timedOutUntil, input.now)) {
    tracer.apply(
      "timeout",
      { id: input.memberId },
      tracer.value & TIMEOUT_ALLOWED_PERMISSIONS,
      `timed out until ${input.timedOutUntil?.toISOString()}: only VIEW_CHANNEL and READ_MESSAGE_HISTORY remain`,
    );
  }
}

/** {@link computeBasePermissions} with its trace: owner, @everyone, each role, ADMINISTRATOR, timeout. */
export function explainBasePermissions(input: BasePermissionInput): PermissionExplanation {
  const tracer = new Tracer();
  if (!traceBase(input, tracer)) traceTimeout(input, tracer);
  return tracer.done();
}

/**
 * {@link computeChannelPermissions} with its trace: owner, @everyone, each
 * role, ADMINISTRATOR, each overwrite's deny then allow (role denies all
 * before role allows, which is Discord's "combined"), the implicit rules and
 * the timeout. Overwrites that declare no bits for a side leave no step.
 */
export function explainChannelPermissions(input: ChannelPermissionInput): PermissionExplanation {
  const tracer = new Tracer();
  if (traceBase(input, tracer)) return tracer.done();

  const { everyone, roles, member } = input.overwrites;
  if (everyone) {
    tracer.deny("everyone-overwrite-deny", everyone, "@everyone denied here");
    tracer.allow("everyone-overwrite-allow", everyone, "@everyone allowed here");
  }
  const applying = roles.filter((overwrite) => roleOverwriteApplies(input, overwrite.id));
  for (const overwrite of applying) {
    tracer.deny(
      "role-overwrite-deny",
      overwrite,
      "a role of the member is denied here (all role denies apply before any role allow)",
    );
  }
  for (const overwrite of applying) {
    tracer.allow(
      "role-overwrite-allow",
      overwrite,
      "a role of the member is allowed here (role allows beat role denies)",
    );
  }
  if (member && member.id === input.memberId) {
    tracer.deny("member-overwrite-deny", member, "the member is denied here");
    tracer.allow("member-overwrite-allow", member, "the member is allowed here");
  }

  if ((tracer.value & PERMISSIONS.VIEW_CHANNEL) === 0n) {
    if (tracer.value !== 0n) {
      tracer.apply(
        "implicit-view-channel",
        null,
        0n,
        "without VIEW_CHANNEL no other permission applies in the channel",
      );
    }
    return tracer.done();
  }
  if (
    (tracer.value & PERMISSIONS.SEND_MESSAGES) === 0n &&
    (tracer.value & SEND_MESSAGES_DEPENDENT_PERMISSIONS) !== 0n
  ) {
    tracer.apply(
      "implicit-send-messages",
      null,
      tracer.value & ~SEND_MESSAGES_DEPENDENT_PERMISSIONS,
      "without SEND_MESSAGES there is no MENTION_EVERYONE, ATTACH_FILES or EMBED_LINKS",
    );
  }
  traceTimeout(input, tracer);
  return tracer.done();
}

/** Why one bit ended up granted or not: the steps that touched it, the last one deciding. */
export interface PermissionVerdict {
  granted: boolean;
  /** The last step that set or cleared the bit; null when nothing ever granted it. */
  decidedBy: PermissionStep | null;
  steps: PermissionStep[];
}

/** "Why does this member have (or lack) this permission": the steps of `explanation` touching `bit`. */
export function explainBit(explanation: PermissionExplanation, bit: bigint): PermissionVerdict {
  const steps = explanation.steps.filter((step) => ((step.set | step.cleared) & bit) !== 0n);
  return { granted: (explanation.permissions & bit) === bit, decidedBy: steps.at(-1) ?? null, steps };
}

/** Who gains and who loses one permission in a dry-run. */
export interface PermissionAccessChange {
  permission: PermissionName;
  bit: bigint;
  gained: string[];
  lost: string[];
}

/** What one member gains and loses in a dry-run. */
export interface MemberAccessChange {
  memberId: string;
  gained: bigint;
  lost: bigint;
}

/** The outcome of a dry-run: by permission (ascending bit) and by member; unchanged ones omitted. */
export interface AccessDiff {
  permissions: PermissionAccessChange[];
  members: MemberAccessChange[];
}

/**
 * Dry-run support (ROLE-6): given each member's permissions before and after
 * a role or overwrite edit (computed by the caller with the edit applied or
 * not), lists who gains and who loses each bit. A member present on one side
 * only counts as having no permission on the other.
 */
export function diffAccess(
  before: ReadonlyMap<string, bigint>,
  after: ReadonlyMap<string, bigint>,
): AccessDiff {
  const members: MemberAccessChange[] = [];
  const ids = new Set([...before.keys(), ...after.keys()]);
  for (const memberId of ids) {
    const was = before.get(memberId) ?? 0n;
    const now = after.get(memberId) ?? 0n;
    if (was !== now) members.push({ memberId, gained: now & ~was, lost: was & ~now });
  }
  const permissions: PermissionAccessChange[] = [];
  for (const permission of PERMISSION_NAMES) {
    const bit = PERMISSIONS[permission];
    const gained = members.filter((change) => (change.gained & bit) !== 0n).map((change) => change.memberId);
    const lost = members.filter((change) => (change.lost & bit) !== 0n).map((change) => change.memberId);
    if (gained.length > 0 || lost.length > 0) permissions.push({ permission, bit, gained, lost });
  }
  return { permissions, members };
}
