// Property suite: the engine against a second, deliberately naive reference
// written here from Discord's prose (bit by bit, booleans, no shared code),
// over thousands of random servers, channels and members.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ChannelPermissionInput,
  computeBasePermissions,
  computeChannelPermissions,
  type PermissionOverwrite,
  type RolePermissions,
} from "./compute-permissions.ts";
import { explainBasePermissions, explainChannelPermissions } from "./explain-permissions.ts";
import { ALL_PERMISSIONS } from "./permission-bits.ts";

const RUNS = 5000;

// ---- the reference, from the docs' prose; it imports nothing from the engine ----
const KNOWN_BITS = [
  0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 13, 14, 15, 16, 17, 20, 21, 22, 23, 24, 28, 29, 35, 38, 40, 51,
];
const ADMIN = 3;
const VIEW = 10;
const SEND = 11;
const HISTORY = 16;
const NEEDS_SEND = [14, 15, 17]; // EMBED_LINKS, ATTACH_FILES, MENTION_EVERYONE

const bitOf = (value: bigint, bit: number) => ((value >> BigInt(bit)) & 1n) === 1n;

function referencePermissions(input: ChannelPermissionInput, inChannel: boolean): bigint {
  const has = new Map<number, boolean>();
  const isOwner = input.memberId === input.ownerId;
  for (const bit of KNOWN_BITS) {
    let granted = bitOf(input.everyoneRole.permissions, bit);
    for (const role of input.memberRoles) {
      if (bitOf(role.permissions, bit)) granted = true;
    }
    has.set(bit, granted);
  }
  const privileged = isOwner || has.get(ADMIN) === true;
  if (privileged) {
    for (const bit of KNOWN_BITS) has.set(bit, true);
  } else if (inChannel) {
    const held = new Set(input.memberRoles.map((role) => role.id));
    held.delete(input.everyoneRole.id);
    for (const bit of KNOWN_BITS) {
      let granted = has.get(bit) === true;
      const everyone = input.overwrites.everyone;
      if (everyone && bitOf(everyone.deny, bit)) granted = false;
      if (everyone && bitOf(everyone.allow, bit)) granted = true;
      let roleDenies = false;
      let roleAllows = false;
      for (const overwrite of input.overwrites.roles) {
        if (!held.has(overwrite.id)) continue;
        if (bitOf(overwrite.deny, bit)) roleDenies = true;
        if (bitOf(overwrite.allow, bit)) roleAllows = true;
      }
      if (roleDenies) granted = false;
      if (roleAllows) granted = true;
      const member = input.overwrites.member;
      if (member && member.id === input.memberId) {
        if (bitOf(member.deny, bit)) granted = false;
        if (bitOf(member.allow, bit)) granted = true;
      }
      has.set(bit, granted);
    }
    if (!has.get(VIEW)) for (const bit of KNOWN_BITS) has.set(bit, false);
    if (!has.get(SEND)) for (const bit of NEEDS_SEND) has.set(bit, false);
  }
  const timedOut = input.timedOutUntil != null && input.timedOutUntil.getTime() > input.now.getTime();
  if (timedOut && !privileged) {
    for (const bit of KNOWN_BITS) if (bit !== VIEW && bit !== HISTORY) has.set(bit, false);
  }
  let result = 0n;
  for (const bit of KNOWN_BITS) if (has.get(bit)) result += 2n ** BigInt(bit);
  return result;
}

// ---- generators ----
const NOW = new Date("2026-06-01T00:00:00Z");
const ROLE_IDS = ["r1", "r2", "r3", "r4", "r5", "r6"];
const NON_ADMIN_BITS = KNOWN_BITS.filter((bit) => bit !== ADMIN);

const rare = (weight: number) =>
  fc.oneof({ arbitrary: fc.constant(true), weight: 1 }, { arbitrary: fc.constant(false), weight });
// VIEW_CHANNEL and SEND_MESSAGES often present, so the interesting paths are not all cut by implicit rules.
const bits = (adminWeight: number) =>
  fc
    .record({
      chosen: fc.subarray(NON_ADMIN_BITS),
      view: fc.boolean(),
      send: fc.boolean(),
      admin: rare(adminWeight),
    })
    .map(({ chosen, view, send, admin }) => {
      let value = 0n;
      for (const bit of chosen) value |= 1n << BigInt(bit);
      if (view) value |= 1n << BigInt(VIEW);
      if (send) value |= 1n << BigInt(SEND);
      if (admin) value |= 1n << BigInt(ADMIN);
      return value;
    });
const sparse = fc.oneof({ arbitrary: fc.constant(0n), weight: 1 }, { arbitrary: bits(20), weight: 2 });
const overwrite = (ids: fc.Arbitrary<string>) =>
  fc.record({ id: ids, allow: sparse, deny: sparse }) as fc.Arbitrary<PermissionOverwrite>;

const scenario: fc.Arbitrary<ChannelPermissionInput> = fc
  .record({
    isOwner: rare(9),
    everyone: bits(40),
    roles: fc.uniqueArray(fc.record({ id: fc.constantFrom(...ROLE_IDS), permissions: bits(25) }), {
      maxLength: 5,
      selector: (role) => role.id,
    }),
    everyoneOverwrite: fc.option(overwrite(fc.constant("srv"))),
    roleOverwrites: fc.array(overwrite(fc.constantFrom("srv", ...ROLE_IDS)), { maxLength: 8 }),
    memberOverwrite: fc.option(overwrite(fc.constantFrom("m1", "m1", "m1", "someone-else"))),
    timeoutMinutes: fc.option(fc.integer({ min: -60, max: 60 })),
    listsEveryone: rare(3),
  })
  .map((s) => ({
    ownerId: s.isOwner ? "m1" : "owner",
    memberId: "m1",
    everyoneRole: { id: "srv", permissions: s.everyone },
    // Callers may list @everyone among the member's roles: it must change nothing.
    memberRoles: (s.listsEveryone
      ? [{ id: "srv", permissions: s.everyone }, ...s.roles]
      : s.roles) as RolePermissions[],
    overwrites: { everyone: s.everyoneOverwrite, roles: s.roleOverwrites, member: s.memberOverwrite },
    timedOutUntil: s.timeoutMinutes === null ? null : new Date(NOW.getTime() + s.timeoutMinutes * 60_000),
    now: NOW,
  }));

const isPrivileged = (input: ChannelPermissionInput) =>
  input.memberId === input.ownerId ||
  [input.everyoneRole, ...input.memberRoles].some((role) => bitOf(role.permissions, ADMIN));

function replay(steps: readonly { set: bigint; cleared: bigint; after: bigint }[]): bigint {
  let value = 0n;
  for (const step of steps) {
    expect(step.set & step.cleared).toBe(0n);
    value = (value & ~step.cleared) | step.set;
    expect(value).toBe(step.after);
  }
  return value;
}

describe("permission engine properties", () => {
  it("channel permissions equal the naive reference", () => {
    fc.assert(
      fc.property(scenario, (input) => {
        expect(computeChannelPermissions(input)).toBe(referencePermissions(input, true));
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it("server-level permissions equal the naive reference", () => {
    fc.assert(
      fc.property(scenario, (input) => {
        expect(computeBasePermissions(input)).toBe(referencePermissions(input, false));
      }),
      { numRuns: RUNS },
    );
  });

  it("the owner and ADMINISTRATOR holders always have ALL, overwrites and timeouts notwithstanding", () => {
    fc.assert(
      fc.property(scenario, (input) => {
        if (!isPrivileged(input)) return;
        expect(computeChannelPermissions(input)).toBe(ALL_PERMISSIONS);
        expect(computeBasePermissions(input)).toBe(ALL_PERMISSIONS);
      }),
      { numRuns: RUNS },
    );
  });

  it("adding an allow to any overwrite (or a bit to a role) never removes a bit", () => {
    const edit = fc.record({
      slot: fc.constantFrom("everyone", "role", "member", "role-grant"),
      extra: bits(10),
    });
    fc.assert(
      fc.property(scenario, edit, fc.nat(), (input, { slot, extra }, pick) => {
        const before = computeChannelPermissions(input);
        const { everyone, roles, member } = input.overwrites;
        let changed: ChannelPermissionInput;
        if (slot === "everyone") {
          const next = everyone
            ? { ...everyone, allow: everyone.allow | extra }
            : { id: "srv", allow: extra, deny: 0n };
          changed = { ...input, overwrites: { ...input.overwrites, everyone: next } };
        } else if (slot === "role") {
          const id = ROLE_IDS[pick % ROLE_IDS.length]!;
          changed = {
            ...input,
            overwrites: { ...input.overwrites, roles: [...roles, { id, allow: extra, deny: 0n }] },
          };
        } else if (slot === "member") {
          const next = member
            ? { ...member, allow: member.allow | extra }
            : { id: "m1", allow: extra, deny: 0n };
          changed = { ...input, overwrites: { ...input.overwrites, member: next } };
        } else {
          const roleList = input.memberRoles.map((role, index) =>
            index === pick % Math.max(1, input.memberRoles.length)
              ? { ...role, permissions: role.permissions | extra }
              : role,
          );
          changed = { ...input, memberRoles: roleList };
        }
        const after = computeChannelPermissions(changed);
        expect(after & before).toBe(before);
      }),
      { numRuns: RUNS },
    );
  });

  it("a member overwrite's deny always wins for its bits (unless its allow names them too), except for owner and admin", () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const member = input.overwrites.member;
        if (!member || member.id !== input.memberId || isPrivileged(input)) return;
        const deniedOnly = member.deny & ~member.allow;
        expect(computeChannelPermissions(input) & deniedOnly).toBe(0n);
      }),
      { numRuns: RUNS },
    );
  });

  it("explain's final bits equal compute's, and replaying its trace reproduces them step by step", () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const channel = explainChannelPermissions(input);
        expect(channel.permissions).toBe(computeChannelPermissions(input));
        expect(replay(channel.steps)).toBe(channel.permissions);
        const base = explainBasePermissions(input);
        expect(base.permissions).toBe(computeBasePermissions(input));
        expect(replay(base.steps)).toBe(base.permissions);
      }),
      { numRuns: RUNS },
    );
  });

  it("the generators reach every path (owner, admin, timeout, implicit rules, ordinary grants)", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(scenario, (input) => {
        for (const step of explainChannelPermissions(input).steps) seen.add(step.kind);
      }),
      { numRuns: 2000 },
    );
    for (const kind of [
      "owner",
      "administrator",
      "everyone-overwrite-deny",
      "everyone-overwrite-allow",
      "role-overwrite-deny",
      "role-overwrite-allow",
      "member-overwrite-deny",
      "member-overwrite-allow",
      "implicit-view-channel",
      "implicit-send-messages",
      "timeout",
    ]) {
      expect(seen).toContain(kind);
    }
  });
});
