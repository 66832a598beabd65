import { BeepError } from "@beep/errors";
import {
  accessFromSnapshot,
  type PermissionCache,
  type ServerSnapshot,
  snapshotChannelBits,
} from "./permission-cache.ts";
import { diffAccess, explainChannelPermissions, type PermissionExplanation } from "./permissions/index.ts";
import {
  channelPermissions,
  isId,
  notFound,
  Permission,
  parseBits,
  requireAbove,
  requireBits,
  type ServerAccess,
} from "./server-access.ts";
import type { OverwriteRow } from "./servers.repository.ts";
import type { Caller } from "./servers.service.ts";

/** Members a dry-run compares at most; the rest are left out and the answer says so. */
export const DRY_RUN_MAX_MEMBERS = 1_000;

/** One member's explained permissions in a channel. */
export interface ExplainedPermissions {
  userId: string;
  explanation: PermissionExplanation;
}

/** The outcome of a dry-run overwrite. */
export interface DryRunResult {
  changes: Array<{ permission: string; bit: bigint; gained: string[]; lost: string[] }>;
  membersChecked: number;
  truncated: boolean;
}

/**
 * Permission answers for other services (internal: the user id comes in the message, the route has
 * checked the internal token) and explanations for members (ROLE-6). Reads only the {@link PermissionCache}.
 */
export class PermissionsService {
  constructor(private readonly cache: PermissionCache) {}

  /** Bits per requested channel, in order; 0n for anything the user cannot view. */
  async channelPermissions(
    userId: string,
    serverId: string,
    channelIds: readonly string[],
  ): Promise<Array<{ channelId: string; permissions: bigint }>> {
    const snapshot = isId(serverId) ? await this.cache.get(serverId) : undefined;
    const access = snapshot && accessFromSnapshot(snapshot, userId);
    return channelIds.map((channelId) => {
      const channel = access && snapshot.channels.get(channelId);
      return {
        channelId,
        permissions: channel ? channelPermissions(access, channel, snapshot.overwrites) : 0n,
      };
    });
  }

  /** Whether the user holds every bit of `required` (server-level when `channelId` is empty). */
  async check(
    userId: string,
    serverId: string,
    channelId: string,
    required: string,
  ): Promise<{ allowed: boolean; permissions: bigint }> {
    const needed = parseBits(required, "required");
    const snapshot = isId(serverId) ? await this.cache.get(serverId) : undefined;
    const access = snapshot && accessFromSnapshot(snapshot, userId);
    if (!snapshot || !access) return { allowed: false, permissions: 0n };
    const bits = channelId === "" ? access.base : snapshotChannelBits(snapshot, userId, channelId);
    // A channel the user cannot view allows nothing, not even an empty requirement.
    const allowed = (channelId === "" || bits !== 0n) && (bits & needed) === needed;
    return { allowed, permissions: bits };
  }

  /** ROLE-6: the trace of `userId`'s (or the caller's) permissions in a channel the caller can view. */
  async explain(
    caller: Caller,
    serverId: string,
    channelId: string,
    userId: string,
  ): Promise<ExplainedPermissions> {
    const { snapshot, access } = await this.member(caller, serverId);
    const channel = isId(channelId) ? snapshot.channels.get(channelId) : undefined;
    if (!channel || channelPermissions(access, channel, snapshot.overwrites) === 0n) {
      throw notFound("channel", "channelId");
    }
    const target = userId === "" ? caller.userId : userId;
    if (target !== caller.userId) {
      requireBits(access.base, Permission.MANAGE_ROLES, "explain another member's permissions");
    }
    const targetAccess = accessFromSnapshot(snapshot, target);
    if (!targetAccess) throw notFound("member", "userId");
    return { userId: target, explanation: explainIn(snapshot, targetAccess, channelId) };
  }

  /** Who would gain or lose each permission if the overwrite were `allow`/`deny` (MANAGE_ROLES in the channel). */
  async dryRunOverwrite(
    caller: Caller,
    input: {
      serverId: string;
      channelId: string;
      targetType: string;
      targetId: string;
      allow: string;
      deny: string;
    },
  ): Promise<DryRunResult> {
    const allow = parseBits(input.allow, "allow");
    const deny = parseBits(input.deny, "deny");
    if ((allow & deny) !== 0n) {
      throw new BeepError("BAD_USER_INPUT", "A bit cannot be both allowed and denied", { field: "deny" });
    }
    if (input.targetType !== "role" && input.targetType !== "member") {
      throw new BeepError("BAD_USER_INPUT", "Target type must be role or member", { field: "targetType" });
    }
    const targetType = input.targetType;
    const { snapshot, access } = await this.member(caller, input.serverId);
    const channel = isId(input.channelId) ? snapshot.channels.get(input.channelId) : undefined;
    const callerBits = channel ? channelPermissions(access, channel, snapshot.overwrites) : 0n;
    if (!channel || callerBits === 0n) throw notFound("channel", "channelId");
    requireBits(callerBits, Permission.MANAGE_ROLES, "edit channel permissions");
    const targetExists =
      targetType === "role"
        ? snapshot.roles.some((role) => role.id === input.targetId)
        : snapshot.members.has(input.targetId);
    if (!targetExists) throw notFound(targetType, "targetId");
    // ROLE-4, as setChannelOverwrite: only an overwrite the caller may set is dry-run.
    if (targetType === "role") {
      const role = snapshot.roles.find((r) => r.id === input.targetId);
      requireAbove(access, role?.position ?? 0, "edit overwrites of roles and members");
    } else if (input.targetId !== caller.userId) {
      const target = accessFromSnapshot(snapshot, input.targetId);
      requireAbove(access, target?.highest ?? 0, "edit overwrites of roles and members");
    }

    const isTarget = (o: OverwriteRow) =>
      o.channel_id === channel.id && o.target_type === targetType && o.target_id === input.targetId;
    const edited: OverwriteRow[] = [
      ...snapshot.overwrites.filter((o) => !isTarget(o)),
      {
        channel_id: channel.id,
        target_type: targetType,
        target_id: input.targetId,
        allow: `${allow}`,
        deny: `${deny}`,
      },
    ];
    const before = new Map<string, bigint>();
    const after = new Map<string, bigint>();
    let checked = 0;
    for (const memberId of snapshot.members.keys()) {
      if (checked === DRY_RUN_MAX_MEMBERS) break;
      checked += 1;
      const memberAccess = accessFromSnapshot(snapshot, memberId);
      if (!memberAccess) continue;
      before.set(memberId, channelPermissions(memberAccess, channel, snapshot.overwrites));
      after.set(memberId, channelPermissions(memberAccess, channel, edited));
    }
    const diff = diffAccess(before, after);
    return {
      changes: diff.permissions.map(({ permission, bit, gained, lost }) => ({
        permission,
        bit,
        gained,
        lost,
      })),
      membersChecked: checked,
      truncated: snapshot.members.size > checked,
    };
  }

  private async member(
    caller: Caller,
    serverId: string,
  ): Promise<{ snapshot: ServerSnapshot; access: ServerAccess }> {
    const snapshot = isId(serverId) ? await this.cache.get(serverId) : undefined;
    const access = snapshot && accessFromSnapshot(snapshot, caller.userId);
    if (!snapshot || !access) throw notFound("server", "serverId");
    return { snapshot, access };
  }
}

/** The engine's trace with role names, in the same inputs {@link channelPermissions} uses. */
function explainIn(snapshot: ServerSnapshot, access: ServerAccess, channelId: string): PermissionExplanation {
  const names = new Map(snapshot.roles.map((role) => [role.id, role.name]));
  const mine = snapshot.overwrites.filter((o) => o.channel_id === channelId);
  const bits = (o: OverwriteRow) => ({ allow: BigInt(o.allow), deny: BigInt(o.deny) });
  const everyone = mine.find((o) => o.target_type === "role" && o.target_id === snapshot.everyone.id);
  const member = mine.find((o) => o.target_type === "member" && o.target_id === access.userId);
  const held = new Set(access.memberRoles.map((role) => role.id));
  const everyoneName = snapshot.everyone.name;
  return explainChannelPermissions({
    ownerId: snapshot.server.owner_id,
    memberId: access.userId,
    everyoneRole: {
      id: snapshot.everyone.id,
      name: everyoneName,
      permissions: BigInt(snapshot.everyone.permissions),
    },
    memberRoles: access.memberRoles.map((role) => ({
      id: role.id,
      name: role.name,
      permissions: BigInt(role.permissions),
    })),
    overwrites: {
      ...(everyone && { everyone: { id: snapshot.everyone.id, name: everyoneName, ...bits(everyone) } }),
      roles: mine
        .filter((o) => o.target_type === "role" && held.has(o.target_id))
        .map((o) => ({ id: o.target_id, name: names.get(o.target_id) ?? o.target_id, ...bits(o) })),
      ...(member && { member: { id: access.userId, ...bits(member) } }),
    },
    now: new Date(),
  });
}
