// Concrete cases from Discord's permission docs ("Permission Overwrites",
// "Permission Hierarchy", "Implicit Permissions", "Permissions for Timed Out
// Members") and the discord.js guide's worked examples.
import { describe, expect, it } from "vitest";
import {
  type ChannelOverwrites,
  type ChannelPermissionInput,
  computeBasePermissions,
  computeChannelPermissions,
  isTimedOut,
  type RolePermissions,
} from "./compute-permissions.ts";
import { ALL_PERMISSIONS, PERMISSIONS as P, permissionNames } from "./permission-bits.ts";

const NOW = new Date("2026-01-01T12:00:00Z");
const LATER = new Date("2026-01-01T13:00:00Z");
const EARLIER = new Date("2026-01-01T11:00:00Z");

/** A typical @everyone: read, write, react, attach, embed, history. */
const MEMBER_DEFAULTS =
  P.VIEW_CHANNEL |
  P.SEND_MESSAGES |
  P.READ_MESSAGE_HISTORY |
  P.ADD_REACTIONS |
  P.ATTACH_FILES |
  P.EMBED_LINKS;
const everyoneRole: RolePermissions = { id: "srv", name: "@everyone", permissions: MEMBER_DEFAULTS };
const mods: RolePermissions = { id: "mods", name: "Mods", permissions: P.MANAGE_MESSAGES | P.KICK_MEMBERS };
const muted: RolePermissions = { id: "muted", name: "Muted", permissions: 0n };
const admins: RolePermissions = { id: "admins", name: "Admins", permissions: P.ADMINISTRATOR };

function input(
  memberRoles: RolePermissions[],
  overwrites: Partial<ChannelOverwrites> = {},
  extra: Partial<ChannelPermissionInput> = {},
): ChannelPermissionInput {
  return {
    ownerId: "owner",
    memberId: "alice",
    everyoneRole,
    memberRoles,
    overwrites: { roles: [], ...overwrites },
    now: NOW,
    ...extra,
  };
}

const names = (bits: bigint) => permissionNames(bits);

describe("computeBasePermissions", () => {
  it("is @everyone OR every role of the member", () => {
    expect(computeBasePermissions(input([mods]))).toBe(MEMBER_DEFAULTS | P.MANAGE_MESSAGES | P.KICK_MEMBERS);
    expect(computeBasePermissions(input([]))).toBe(MEMBER_DEFAULTS);
  });

  it("gives the owner every permission, even with no role at all", () => {
    const owner = input([], {}, { memberId: "owner", everyoneRole: { id: "srv", permissions: 0n } });
    expect(computeBasePermissions(owner)).toBe(ALL_PERMISSIONS);
  });

  it("gives ADMINISTRATOR holders every permission", () => {
    expect(computeBasePermissions(input([admins]))).toBe(ALL_PERMISSIONS);
  });

  it("leaves a timed-out member only VIEW_CHANNEL and READ_MESSAGE_HISTORY server-wide (no kicking)", () => {
    const base = computeBasePermissions(input([mods], {}, { timedOutUntil: LATER }));
    expect(names(base)).toEqual(["VIEW_CHANNEL", "READ_MESSAGE_HISTORY"]);
  });
});

describe("computeChannelPermissions", () => {
  it("private channel: @everyone denied VIEW_CHANNEL, a role allowed it — only that role's members see it", () => {
    const overwrites = {
      everyone: { id: "srv", allow: 0n, deny: P.VIEW_CHANNEL },
      roles: [{ id: "mods", allow: P.VIEW_CHANNEL, deny: 0n }],
    };
    expect(computeChannelPermissions(input([], overwrites))).toBe(0n);
    expect(computeChannelPermissions(input([mods], overwrites))).toBe(
      MEMBER_DEFAULTS | P.MANAGE_MESSAGES | P.KICK_MEMBERS,
    );
  });

  it("a member overwrite beats the member's role overwrites (deny)", () => {
    const overwrites = {
      roles: [{ id: "mods", allow: P.SEND_MESSAGES | P.MENTION_EVERYONE, deny: 0n }],
      member: { id: "alice", allow: 0n, deny: P.SEND_MESSAGES },
    };
    const permissions = computeChannelPermissions(input([mods], overwrites));
    expect(permissions & P.SEND_MESSAGES).toBe(0n);
    expect(permissions & P.VIEW_CHANNEL).toBe(P.VIEW_CHANNEL);
  });

  it("a member overwrite beats @everyone and role denies (allow)", () => {
    const overwrites = {
      everyone: { id: "srv", allow: 0n, deny: P.SEND_MESSAGES },
      roles: [{ id: "muted", allow: 0n, deny: P.SEND_MESSAGES }],
      member: { id: "alice", allow: P.SEND_MESSAGES, deny: 0n },
    };
    expect(computeChannelPermissions(input([muted], overwrites)) & P.SEND_MESSAGES).toBe(P.SEND_MESSAGES);
  });

  it("role overwrites combine: one role's allow beats another's deny whatever their positions (docs' #coolstuff)", () => {
    const a: RolePermissions = { id: "a", permissions: 0n };
    const b: RolePermissions = { id: "b", permissions: 0n };
    const overwrites = {
      everyone: { id: "srv", allow: 0n, deny: P.VIEW_CHANNEL },
      roles: [
        { id: "a", allow: 0n, deny: P.VIEW_CHANNEL },
        { id: "b", allow: P.VIEW_CHANNEL, deny: 0n },
      ],
    };
    expect(computeChannelPermissions(input([a, b], overwrites)) & P.VIEW_CHANNEL).toBe(P.VIEW_CHANNEL);
    expect(computeChannelPermissions(input([b, a], overwrites)) & P.VIEW_CHANNEL).toBe(P.VIEW_CHANNEL);
    expect(computeChannelPermissions(input([a], overwrites))).toBe(0n);
  });

  it("a role without the bit does not take away a base permission; only a channel deny does (discord.js 'muted' example)", () => {
    expect(computeChannelPermissions(input([muted])) & P.SEND_MESSAGES).toBe(P.SEND_MESSAGES);
    const denied = computeChannelPermissions(
      input([muted], { roles: [{ id: "muted", allow: 0n, deny: P.SEND_MESSAGES | P.ADD_REACTIONS }] }),
    );
    expect(names(denied)).toEqual(["VIEW_CHANNEL", "READ_MESSAGE_HISTORY"]);
  });

  it("an @everyone overwrite can grant in one channel what the server does not", () => {
    const overwrites = { everyone: { id: "srv", allow: P.PIN_MESSAGES | P.CREATE_PUBLIC_THREADS, deny: 0n } };
    const permissions = computeChannelPermissions(input([], overwrites));
    expect(permissions & (P.PIN_MESSAGES | P.CREATE_PUBLIC_THREADS)).toBe(
      P.PIN_MESSAGES | P.CREATE_PUBLIC_THREADS,
    );
  });

  it("ADMINISTRATOR bypasses every overwrite, even a member deny of VIEW_CHANNEL", () => {
    const overwrites = {
      everyone: { id: "srv", allow: 0n, deny: ALL_PERMISSIONS },
      roles: [{ id: "admins", allow: 0n, deny: ALL_PERMISSIONS }],
      member: { id: "alice", allow: 0n, deny: ALL_PERMISSIONS },
    };
    expect(computeChannelPermissions(input([admins], overwrites))).toBe(ALL_PERMISSIONS);
  });

  it("the owner has every permission in every channel, whatever the overwrites", () => {
    const overwrites = {
      everyone: { id: "srv", allow: 0n, deny: ALL_PERMISSIONS },
      member: { id: "owner", allow: 0n, deny: ALL_PERMISSIONS },
    };
    expect(computeChannelPermissions(input([], overwrites, { memberId: "owner" }))).toBe(ALL_PERMISSIONS);
  });

  it("ADMINISTRATOR allowed by a channel overwrite grants nothing more (admin is decided server-wide)", () => {
    const permissions = computeChannelPermissions(
      input([], { member: { id: "alice", allow: P.ADMINISTRATOR, deny: P.SEND_MESSAGES } }),
    );
    expect(permissions).not.toBe(ALL_PERMISSIONS);
    expect(permissions & P.SEND_MESSAGES).toBe(0n);
  });

  it("implicit: without VIEW_CHANNEL nothing else applies, even an explicit allow of SEND_MESSAGES", () => {
    const overwrites = {
      everyone: { id: "srv", allow: 0n, deny: P.VIEW_CHANNEL },
      roles: [{ id: "mods", allow: P.SEND_MESSAGES | P.MANAGE_MESSAGES, deny: 0n }],
    };
    expect(computeChannelPermissions(input([mods], overwrites))).toBe(0n);
  });

  it("implicit: without SEND_MESSAGES no MENTION_EVERYONE, ATTACH_FILES or EMBED_LINKS; reactions and history stay", () => {
    const rich: RolePermissions = { id: "rich", permissions: P.MENTION_EVERYONE };
    const overwrites = { everyone: { id: "srv", allow: 0n, deny: P.SEND_MESSAGES } };
    expect(names(computeChannelPermissions(input([rich], overwrites)))).toEqual([
      "ADD_REACTIONS",
      "VIEW_CHANNEL",
      "READ_MESSAGE_HISTORY",
    ]);
  });

  it("ignores role overwrites of roles the member does not hold, and another member's overwrite", () => {
    const overwrites = {
      roles: [{ id: "mods", allow: 0n, deny: P.VIEW_CHANNEL }],
      member: { id: "bob", allow: 0n, deny: P.VIEW_CHANNEL },
    };
    expect(computeChannelPermissions(input([], overwrites))).toBe(MEMBER_DEFAULTS);
  });

  it("applies the @everyone overwrite once, even when the caller lists @everyone among the member's roles", () => {
    // Applied again as a role overwrite, its deny would run after its own allow and take PIN_MESSAGES away.
    const overwrites = {
      everyone: { id: "srv", allow: P.PIN_MESSAGES, deny: 0n },
      roles: [{ id: "srv", allow: 0n, deny: P.PIN_MESSAGES }],
    };
    expect(computeChannelPermissions(input([everyoneRole], overwrites)) & P.PIN_MESSAGES).toBe(
      P.PIN_MESSAGES,
    );
  });

  it("timeout: a timed-out member keeps only VIEW_CHANNEL and READ_MESSAGE_HISTORY", () => {
    const permissions = computeChannelPermissions(input([mods], {}, { timedOutUntil: LATER }));
    expect(names(permissions)).toEqual(["VIEW_CHANNEL", "READ_MESSAGE_HISTORY"]);
  });

  it("timeout grants nothing: a timed-out member who cannot see the channel still cannot", () => {
    const overwrites = { everyone: { id: "srv", allow: 0n, deny: P.VIEW_CHANNEL } };
    expect(computeChannelPermissions(input([], overwrites, { timedOutUntil: LATER }))).toBe(0n);
    const noHistory = { everyone: { id: "srv", allow: 0n, deny: P.READ_MESSAGE_HISTORY } };
    expect(names(computeChannelPermissions(input([], noHistory, { timedOutUntil: LATER })))).toEqual([
      "VIEW_CHANNEL",
    ]);
  });

  it("timeout ends at its time: at or after timedOutUntil the member has everything back", () => {
    expect(computeChannelPermissions(input([], {}, { timedOutUntil: EARLIER }))).toBe(MEMBER_DEFAULTS);
    expect(computeChannelPermissions(input([], {}, { timedOutUntil: NOW }))).toBe(MEMBER_DEFAULTS);
    expect(isTimedOut(LATER, NOW)).toBe(true);
    expect(isTimedOut(null, undefined)).toBe(false);
    expect(() => isTimedOut(LATER, undefined)).toThrow(/now/);
  });

  it("timeout does not touch the owner or ADMINISTRATOR holders (Discord exempts them)", () => {
    expect(computeChannelPermissions(input([admins], {}, { timedOutUntil: LATER }))).toBe(ALL_PERMISSIONS);
    expect(computeChannelPermissions(input([], {}, { memberId: "owner", timedOutUntil: LATER }))).toBe(
      ALL_PERMISSIONS,
    );
  });
});
