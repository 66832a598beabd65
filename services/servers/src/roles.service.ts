import { assertVisibleText, BeepError } from "@beep/errors";
import { newId } from "@beep/ids";
import type { Kysely, Transaction } from "kysely";
import { recordAudit } from "./audit-log.ts";
import { memberPayload } from "./event-payloads.ts";
import {
  type AccessReader,
  emit,
  notFound,
  Permission,
  parseBits,
  requireAbove,
  requireBits,
  requireGrantable,
  type ServerAccess,
  type ServerLimits,
} from "./server-access.ts";
import { type MemberView, memberView, type RoleView, roleView } from "./server-views.ts";
import type { RoleRow, ServersRepository } from "./servers.repository.ts";
import type { Caller } from "./servers.service.ts";
import type { ServersTables } from "./servers.tables.ts";

/** What RolesService needs. */
export interface RolesServiceDeps {
  db: Kysely<ServersTables>;
  repo: ServersRepository;
  access: AccessReader;
  limits: ServerLimits;
}

/**
 * Roles (ROLE-1) under the hierarchy rule (ROLE-4): with MANAGE_ROLES, a member manages only roles below
 * their highest, and grants only bits they have. The owner outranks everyone.
 */
export class RolesService {
  constructor(private readonly deps: RolesServiceDeps) {}

  /** The server's roles, highest first. */
  async list(caller: Caller, serverId: string): Promise<RoleView[]> {
    return (await this.deps.access.load(this.deps.db, serverId, caller.userId)).roles.map(roleView);
  }

  /** Creates a role just above @everyone (position 1), so its creator can manage it. */
  async create(
    caller: Caller,
    serverId: string,
    input: { name: string; color: number; permissions: string },
  ): Promise<RoleView> {
    const name = roleName(input.name);
    const color = roleColor(input.color);
    const permissions = parseBits(input.permissions, "permissions");
    return this.inServer(caller, serverId, async (trx, access) => {
      requireBits(access.base, Permission.MANAGE_ROLES, "manage roles");
      requireGrantable(access.base, 0n, permissions);
      const max = this.deps.limits.maxRolesPerServer;
      if (access.roles.length >= max)
        throw new BeepError("LIMIT_EXCEEDED", `A server can have at most ${max} roles`);
      requireAbove(access, 0, "create roles");
      const id = newId();
      await this.deps.repo.shiftRolesUp(trx, serverId, 1);
      await this.deps.repo.insertRole(trx, {
        id,
        server_id: serverId,
        name,
        color,
        permissions: String(permissions),
        position: 1,
      });
      // Creating at position 1 moves the others up: their new positions go out too.
      await this.emitRoleUpdates(trx, access, "role.created", id);
      await recordAudit(trx, {
        serverId,
        actorId: caller.userId,
        action: "ROLE_CREATE",
        targetType: "role",
        targetId: id,
        changes: { name, color, permissions: String(permissions) },
      });
      return this.view(trx, serverId, id);
    });
  }

  /** Edits a role below the caller's highest; @everyone keeps its name and position. */
  async update(
    caller: Caller,
    serverId: string,
    roleId: string,
    patch: {
      name?: string | undefined;
      color?: number | undefined;
      permissions?: string | undefined;
      position?: number | undefined;
    },
  ): Promise<RoleView> {
    return this.inServer(caller, serverId, async (trx, access) => {
      const role = this.manageable(access, roleId);
      const everyone = role.id === serverId;
      const changes: Partial<{ name: string; color: number; permissions: string }> = {};
      if (patch.name !== undefined) {
        if (everyone) throw new BeepError("BAD_USER_INPUT", "@everyone cannot be renamed", { field: "name" });
        changes.name = roleName(patch.name);
      }
      if (patch.color !== undefined) changes.color = roleColor(patch.color);
      if (patch.permissions !== undefined) {
        const bits = parseBits(patch.permissions, "permissions");
        requireGrantable(access.base, BigInt(role.permissions), bits);
        changes.permissions = String(bits);
      }
      await this.deps.repo.updateRole(trx, roleId, changes);
      if (patch.position !== undefined) {
        if (everyone)
          throw new BeepError("BAD_USER_INPUT", "@everyone stays at the bottom", { field: "position" });
        await this.move(trx, access, role, patch.position);
      }
      await this.emitRoleUpdates(trx, access, "role.updated", roleId);
      await recordAudit(trx, {
        serverId,
        actorId: caller.userId,
        action: "ROLE_UPDATE",
        targetType: "role",
        targetId: roleId,
        changes: { ...changes, ...(patch.position !== undefined && { position: patch.position }) },
      });
      return this.view(trx, serverId, roleId);
    });
  }

  /** Deletes a role below the caller's highest; members lose it. */
  async delete(caller: Caller, serverId: string, roleId: string): Promise<string> {
    return this.inServer(caller, serverId, async (trx, access) => {
      const role = this.manageable(access, roleId);
      if (role.id === serverId)
        throw new BeepError("BAD_USER_INPUT", "@everyone cannot be deleted", { field: "roleId" });
      await this.deps.repo.deleteRole(trx, roleId);
      await emit(trx, [{ type: "role.deleted", payload: { serverId, roleId } }]);
      await recordAudit(trx, {
        serverId,
        actorId: caller.userId,
        action: "ROLE_DELETE",
        targetType: "role",
        targetId: roleId,
        changes: { name: role.name },
      });
      return roleId;
    });
  }

  /** Gives a member a role (the role and the member both below the caller, unless the caller is the member). */
  async assign(caller: Caller, serverId: string, roleId: string, userId: string): Promise<MemberView> {
    return this.memberRole(caller, serverId, roleId, userId, "add");
  }

  /** Takes a role from a member, under the same rules as assign. */
  async remove(caller: Caller, serverId: string, roleId: string, userId: string): Promise<MemberView> {
    return this.memberRole(caller, serverId, roleId, userId, "remove");
  }

  private async memberRole(
    caller: Caller,
    serverId: string,
    roleId: string,
    userId: string,
    change: "add" | "remove",
  ): Promise<MemberView> {
    return this.inServer(caller, serverId, async (trx, access) => {
      const role = this.manageable(access, roleId);
      if (role.id === serverId)
        throw new BeepError("BAD_USER_INPUT", "Everyone has @everyone", { field: "roleId" });
      const target = await this.deps.access.highestOf(trx, access, userId);
      if (userId !== caller.userId) requireAbove(access, target, "manage members");
      if (change === "add") await this.deps.repo.addMemberRole(trx, serverId, userId, roleId);
      else await this.deps.repo.removeMemberRole(trx, serverId, userId, roleId);
      await emit(trx, [
        {
          type: "member.updated",
          payload: { serverId, userId, ...(await memberPayload(trx, serverId, userId)) },
        },
      ]);
      await recordAudit(trx, {
        serverId,
        actorId: caller.userId,
        action: change === "add" ? "MEMBER_ROLE_ADD" : "MEMBER_ROLE_REMOVE",
        targetType: "member",
        targetId: userId,
        changes: { roleId },
      });
      const member = (await this.deps.repo.listMembers(trx, serverId)).find(
        (row) => String(row.user_id) === userId,
      );
      if (!member) throw notFound("member", "userId");
      return memberView(serverId, access.server.owner_id, member);
    });
  }

  /** The role, if the caller has MANAGE_ROLES and outranks it. */
  private manageable(access: ServerAccess, roleId: string): RoleRow {
    const role = access.roles.find((r) => r.id === roleId);
    if (!role) throw notFound("role", "roleId");
    requireBits(access.base, Permission.MANAGE_ROLES, "manage roles");
    requireAbove(access, role.position, "manage roles");
    return role;
  }

  /** Moves a role to `position` (1 and up, below the caller) and renumbers the others 1..n in their order. */
  private async move(
    trx: Transaction<ServersTables>,
    access: ServerAccess,
    role: RoleRow,
    position: number,
  ): Promise<void> {
    if (!Number.isInteger(position) || position < 1) {
      throw new BeepError("BAD_USER_INPUT", "Position must be 1 or more", { field: "position" });
    }
    requireAbove(access, position, "move roles");
    const ordered = access.roles
      .filter((r) => r.id !== access.server.id && r.id !== role.id)
      .sort((a, b) => a.position - b.position || (a.id < b.id ? 1 : -1));
    ordered.splice(Math.min(position - 1, ordered.length), 0, role);
    for (const [index, r] of ordered.entries()) {
      if (r.position !== index + 1 || r.id === role.id)
        await this.deps.repo.updateRole(trx, r.id, { position: index + 1 });
    }
  }

  /** `type` for `roleId`, then role.updated for every other role whose position the change moved. */
  private async emitRoleUpdates(
    trx: Transaction<ServersTables>,
    access: ServerAccess,
    type: "role.created" | "role.updated",
    roleId: string,
  ): Promise<void> {
    const serverId = access.server.id;
    const before = new Map(access.roles.map((role) => [role.id, role.position]));
    const now = await this.deps.repo.roles(trx, serverId);
    const events = [];
    for (const role of now) {
      const moved = role.id !== roleId && before.has(role.id) && before.get(role.id) !== role.position;
      if (role.id !== roleId && !moved) continue;
      events.push({
        type: role.id === roleId ? type : "role.updated",
        payload: { serverId, roleId: role.id, role: roleView(role) },
      });
    }
    // The edited role first, so a client sees the change before the renumbering.
    events.sort((a, b) => Number(b.payload.roleId === roleId) - Number(a.payload.roleId === roleId));
    await emit(trx, events);
  }

  private inServer<T>(
    caller: Caller,
    serverId: string,
    work: (trx: Transaction<ServersTables>, access: ServerAccess) => Promise<T>,
  ): Promise<T> {
    return this.deps.db
      .transaction()
      .execute(async (trx) => work(trx, await this.deps.access.load(trx, serverId, caller.userId, true)));
  }

  private async view(db: Kysely<ServersTables>, serverId: string, roleId: string): Promise<RoleView> {
    const role = (await this.deps.repo.roles(db, serverId)).find((r) => r.id === roleId);
    if (!role) throw new Error(`role ${roleId} vanished inside its own transaction`);
    return roleView(role);
  }
}

function roleName(value: string): string {
  const name = value.trim();
  if (name.length < 1 || name.length > 100) {
    throw new BeepError("BAD_USER_INPUT", "Name must be 1 to 100 characters", { field: "name" });
  }
  assertVisibleText(name, "name");
  return name;
}

function roleColor(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffff) {
    throw new BeepError("BAD_USER_INPUT", "Colour must be 0 to 0xFFFFFF", { field: "color" });
  }
  return value;
}
