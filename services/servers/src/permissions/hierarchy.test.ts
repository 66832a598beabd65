import { describe, expect, it } from "vitest";
import {
  canGrant,
  canManageMember,
  canManageRole,
  type HierarchyActor,
  highestRolePosition,
  ungrantablePermissions,
} from "./hierarchy.ts";
import { ALL_PERMISSIONS, PERMISSIONS as P } from "./permission-bits.ts";

const everyone = { id: "srv", position: 0 };
const helper = { id: "helper", position: 1 };
const mod = { id: "mod", position: 5 };
const admin = { id: "admin", position: 9 };

const actor = (memberId: string, roles: { id: string; position: number }[]): HierarchyActor => ({
  memberId,
  ownerId: "owner",
  roles,
});

describe("role hierarchy (ROLE-4)", () => {
  it("takes the highest position, @everyone (0) when the member has no other role", () => {
    expect(highestRolePosition([helper, admin, mod])).toBe(9);
    expect(highestRolePosition([])).toBe(0);
    expect(highestRolePosition([everyone])).toBe(0);
  });

  it("lets a member manage only roles strictly below their highest role", () => {
    const moderator = actor("mia", [helper, mod]);
    expect(canManageRole(moderator, helper)).toBe(true);
    expect(canManageRole(moderator, everyone)).toBe(true);
    expect(canManageRole(moderator, mod)).toBe(false); // their own highest role
    expect(canManageRole(moderator, { id: "peer", position: 5 })).toBe(false); // at: not below
    expect(canManageRole(moderator, admin)).toBe(false);
    expect(canManageRole(actor("nobody", []), everyone)).toBe(false);
  });

  it("puts the owner above every role, even with no role at all", () => {
    expect(canManageRole(actor("owner", []), admin)).toBe(true);
  });

  it("lets a member act only on members whose highest role is strictly below theirs", () => {
    const moderator = actor("mia", [mod]);
    expect(canManageMember(moderator, { memberId: "hal", roles: [helper] })).toBe(true);
    expect(canManageMember(moderator, { memberId: "newbie", roles: [] })).toBe(true);
    expect(canManageMember(moderator, { memberId: "max", roles: [helper, mod] })).toBe(false);
    expect(canManageMember(moderator, { memberId: "ada", roles: [admin] })).toBe(false);
    expect(canManageMember(moderator, { memberId: "mia", roles: [mod] })).toBe(false); // not themselves
  });

  it("never lets anyone but the owner act on the owner; the owner acts on anyone", () => {
    expect(canManageMember(actor("ada", [admin]), { memberId: "owner", roles: [] })).toBe(false);
    expect(canManageMember(actor("owner", []), { memberId: "ada", roles: [admin] })).toBe(true);
  });
});

describe("granting permissions (ROLE-4)", () => {
  it("lets nobody grant a permission they do not have", () => {
    const moderator = P.VIEW_CHANNEL | P.SEND_MESSAGES | P.MANAGE_ROLES | P.KICK_MEMBERS;
    expect(canGrant(moderator, P.SEND_MESSAGES | P.KICK_MEMBERS)).toBe(true);
    expect(canGrant(moderator, 0n)).toBe(true);
    expect(canGrant(moderator, P.SEND_MESSAGES | P.BAN_MEMBERS)).toBe(false);
    expect(ungrantablePermissions(moderator, P.SEND_MESSAGES | P.BAN_MEMBERS | P.ADMINISTRATOR)).toBe(
      P.BAN_MEMBERS | P.ADMINISTRATOR,
    );
  });

  it("lets ADMINISTRATOR holders (and so the owner, who has ALL) grant anything", () => {
    expect(canGrant(P.ADMINISTRATOR, ALL_PERMISSIONS)).toBe(true);
    expect(canGrant(ALL_PERMISSIONS, ALL_PERMISSIONS)).toBe(true);
  });
});
