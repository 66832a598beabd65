import { describe, expect, it } from "vitest";
import { type ChannelPermissionInput, computeChannelPermissions } from "./compute-permissions.ts";
import {
  diffAccess,
  explainBasePermissions,
  explainBit,
  explainChannelPermissions,
} from "./explain-permissions.ts";
import { ALL_PERMISSIONS, PERMISSIONS as P } from "./permission-bits.ts";

const NOW = new Date("2026-01-01T12:00:00Z");
const base = P.VIEW_CHANNEL | P.SEND_MESSAGES | P.READ_MESSAGE_HISTORY | P.ATTACH_FILES | P.EMBED_LINKS;

function staffRoom(memberRoles: { id: string; name: string; permissions: bigint }[]): ChannelPermissionInput {
  return {
    ownerId: "owner",
    memberId: "alice",
    everyoneRole: { id: "srv", name: "@everyone", permissions: base },
    memberRoles,
    overwrites: {
      everyone: { id: "srv", name: "@everyone", allow: 0n, deny: P.VIEW_CHANNEL },
      roles: [
        { id: "staff", name: "Staff", allow: P.VIEW_CHANNEL, deny: 0n },
        { id: "trial", name: "Trial", allow: 0n, deny: P.ATTACH_FILES },
      ],
      member: { id: "alice", allow: 0n, deny: P.SEND_MESSAGES },
    },
    now: NOW,
  };
}

describe("explain (ROLE-6)", () => {
  it("traces, in Discord's order, what set and cleared each bit, with its source", () => {
    const input = staffRoom([
      { id: "staff", name: "Staff", permissions: 0n },
      { id: "trial", name: "Trial", permissions: P.PIN_MESSAGES },
    ]);
    const explanation = explainChannelPermissions(input);
    expect(explanation.permissions).toBe(computeChannelPermissions(input));
    expect(explanation.permissions).toBe(P.VIEW_CHANNEL | P.READ_MESSAGE_HISTORY | P.PIN_MESSAGES);
    expect(
      explanation.steps.map((step) => [step.kind, step.source?.name ?? step.source?.id ?? null]),
    ).toEqual([
      ["everyone-role", "@everyone"],
      ["role", "Staff"],
      ["role", "Trial"],
      ["everyone-overwrite-deny", "@everyone"],
      ["role-overwrite-deny", "Trial"],
      ["role-overwrite-allow", "Staff"],
      ["member-overwrite-deny", "alice"],
      ["implicit-send-messages", null],
    ]);
    const [trialDeny, staffAllow, memberDeny, implicit] = explanation.steps.slice(4);
    expect([trialDeny?.set, trialDeny?.cleared]).toEqual([0n, P.ATTACH_FILES]);
    expect([staffAllow?.set, staffAllow?.cleared]).toEqual([P.VIEW_CHANNEL, 0n]);
    expect([memberDeny?.set, memberDeny?.cleared]).toEqual([0n, P.SEND_MESSAGES]);
    expect([implicit?.set, implicit?.cleared]).toEqual([0n, P.EMBED_LINKS]);
  });

  it("answers 'why can she see it': the Staff overwrite re-allowed VIEW_CHANNEL after @everyone's deny", () => {
    const explanation = explainChannelPermissions(
      staffRoom([{ id: "staff", name: "Staff", permissions: 0n }]),
    );
    const verdict = explainBit(explanation, P.VIEW_CHANNEL);
    expect(verdict.granted).toBe(true);
    expect(verdict.steps.map((step) => step.kind)).toEqual([
      "everyone-role",
      "everyone-overwrite-deny",
      "role-overwrite-allow",
    ]);
    expect(verdict.decidedBy?.source).toEqual({ id: "staff", name: "Staff" });
  });

  it("answers 'why can't he see it': @everyone's deny, and the implicit rule that empties the rest", () => {
    const explanation = explainChannelPermissions(staffRoom([]));
    expect(explanation.permissions).toBe(0n);
    expect(explainBit(explanation, P.VIEW_CHANNEL).decidedBy?.kind).toBe("everyone-overwrite-deny");
    expect(explainBit(explanation, P.READ_MESSAGE_HISTORY).decidedBy?.kind).toBe("implicit-view-channel");
    const never = explainBit(explanation, P.BAN_MEMBERS);
    expect(never).toEqual({ granted: false, decidedBy: null, steps: [] });
  });

  it("shows the owner and ADMINISTRATOR shortcuts as single deciding steps", () => {
    const owner = explainChannelPermissions({ ...staffRoom([]), memberId: "owner" });
    expect(owner.steps.map((step) => step.kind)).toEqual(["owner"]);
    expect(owner.permissions).toBe(ALL_PERMISSIONS);
    const admin = explainChannelPermissions(
      staffRoom([{ id: "boss", name: "Boss", permissions: P.ADMINISTRATOR }]),
    );
    expect(admin.steps.map((step) => step.kind)).toEqual(["everyone-role", "role", "administrator"]);
    expect(admin.steps.at(-1)?.source).toEqual({ id: "boss", name: "Boss" });
    expect(admin.permissions).toBe(ALL_PERMISSIONS);
  });

  it("shows a timeout as the last step, naming its end", () => {
    const explanation = explainBasePermissions({
      ownerId: "owner",
      memberId: "alice",
      everyoneRole: { id: "srv", permissions: base | P.KICK_MEMBERS },
      memberRoles: [],
      timedOutUntil: new Date("2026-01-01T13:00:00Z"),
      now: NOW,
    });
    const last = explanation.steps.at(-1)!;
    expect(last.kind).toBe("timeout");
    expect(last.reason).toContain("2026-01-01T13:00:00.000Z");
    expect(last.cleared).toBe(P.SEND_MESSAGES | P.ATTACH_FILES | P.EMBED_LINKS | P.KICK_MEMBERS);
    expect(explanation.permissions).toBe(P.VIEW_CHANNEL | P.READ_MESSAGE_HISTORY);
  });
});

describe("diffAccess (dry-run)", () => {
  it("lists, per permission, who gains and who loses it — members on one side only count as nothing", () => {
    const before = new Map([
      ["ann", P.VIEW_CHANNEL | P.SEND_MESSAGES],
      ["bob", P.VIEW_CHANNEL],
      ["cid", P.VIEW_CHANNEL],
      ["dan", P.VIEW_CHANNEL],
    ]);
    const after = new Map([
      ["ann", P.VIEW_CHANNEL],
      ["bob", P.VIEW_CHANNEL | P.SEND_MESSAGES],
      ["cid", P.VIEW_CHANNEL],
      ["eve", P.VIEW_CHANNEL],
    ]);
    const diff = diffAccess(before, after);
    expect(diff.permissions).toEqual([
      { permission: "VIEW_CHANNEL", bit: P.VIEW_CHANNEL, gained: ["eve"], lost: ["dan"] },
      { permission: "SEND_MESSAGES", bit: P.SEND_MESSAGES, gained: ["bob"], lost: ["ann"] },
    ]);
    expect(diff.members).toEqual([
      { memberId: "ann", gained: 0n, lost: P.SEND_MESSAGES },
      { memberId: "bob", gained: P.SEND_MESSAGES, lost: 0n },
      { memberId: "dan", gained: 0n, lost: P.VIEW_CHANNEL },
      { memberId: "eve", gained: P.VIEW_CHANNEL, lost: 0n },
    ]);
    expect(diffAccess(before, before)).toEqual({ permissions: [], members: [] });
  });

  it("dry-runs an overwrite edit: denying VIEW_CHANNEL to @everyone shows who loses the channel", () => {
    const people = ["owner", "alice", "staffer"];
    const roleOf: Record<string, { id: string; name: string; permissions: bigint }[]> = {
      owner: [],
      alice: [],
      staffer: [{ id: "staff", name: "Staff", permissions: 0n }],
    };
    const permissionsWith = (deny: bigint) =>
      new Map(
        people.map((memberId) => [
          memberId,
          computeChannelPermissions({
            ...staffRoom(roleOf[memberId]!),
            memberId,
            overwrites: {
              everyone: { id: "srv", allow: 0n, deny },
              roles: [{ id: "staff", allow: P.VIEW_CHANNEL, deny: 0n }],
            },
          }),
        ]),
      );
    const diff = diffAccess(permissionsWith(0n), permissionsWith(P.VIEW_CHANNEL));
    expect(diff.permissions.find((change) => change.permission === "VIEW_CHANNEL")).toEqual({
      permission: "VIEW_CHANNEL",
      bit: P.VIEW_CHANNEL,
      gained: [],
      lost: ["alice"],
    });
    expect(diff.members.map((change) => change.memberId)).toEqual(["alice"]);
  });
});
