import { describe, expect, it } from "vitest";
import {
  ALL_PERMISSIONS,
  formatPermissions,
  PERMISSION_NAMES,
  PERMISSIONS,
  parsePermissions,
  permissionNames,
  permissionsFromNames,
} from "./permission-bits.ts";

// Discord's "Bitwise Permission Flags" table, copied as hex literals so a
// typo in the shifts of permission-bits.ts fails here.
const DISCORD_TABLE: Record<string, bigint> = {
  CREATE_INSTANT_INVITE: 0x0000000000000001n,
  KICK_MEMBERS: 0x0000000000000002n,
  BAN_MEMBERS: 0x0000000000000004n,
  ADMINISTRATOR: 0x0000000000000008n,
  MANAGE_CHANNELS: 0x0000000000000010n,
  MANAGE_GUILD: 0x0000000000000020n,
  ADD_REACTIONS: 0x0000000000000040n,
  VIEW_AUDIT_LOG: 0x0000000000000080n,
  STREAM: 0x0000000000000200n,
  VIEW_CHANNEL: 0x0000000000000400n,
  SEND_MESSAGES: 0x0000000000000800n,
  MANAGE_MESSAGES: 0x0000000000002000n,
  EMBED_LINKS: 0x0000000000004000n,
  ATTACH_FILES: 0x0000000000008000n,
  READ_MESSAGE_HISTORY: 0x0000000000010000n,
  MENTION_EVERYONE: 0x0000000000020000n,
  CONNECT: 0x0000000000100000n,
  SPEAK: 0x0000000000200000n,
  MUTE_MEMBERS: 0x0000000000400000n,
  DEAFEN_MEMBERS: 0x0000000000800000n,
  MOVE_MEMBERS: 0x0000000001000000n,
  MANAGE_ROLES: 0x0000000010000000n,
  MANAGE_WEBHOOKS: 0x0000000020000000n,
  CREATE_PUBLIC_THREADS: 0x0000000800000000n,
  SEND_MESSAGES_IN_THREADS: 0x0000004000000000n,
  MODERATE_MEMBERS: 0x0000010000000000n,
  PIN_MESSAGES: 0x0008000000000000n,
};

function rejection(value: string): { code: string; message: string; field?: string } {
  try {
    parsePermissions(value);
  } catch (error) {
    const { code, message, details } = error as {
      code: string;
      message: string;
      details: { field?: string };
    };
    return { code, message, field: details.field };
  }
  throw new Error(`parsePermissions accepted ${JSON.stringify(value)}`);
}

describe("permission bits", () => {
  it("uses Discord's bit for every ROLE-2 flag, and has exactly those flags", () => {
    expect({ ...PERMISSIONS }).toEqual(DISCORD_TABLE);
    expect(PERMISSION_NAMES).toHaveLength(27);
    expect(ALL_PERMISSIONS).toBe(Object.values(DISCORD_TABLE).reduce((all, bit) => all | bit, 0n));
  });

  it("lists names in ascending bit order", () => {
    const bits = PERMISSION_NAMES.map((name) => PERMISSIONS[name]);
    expect([...bits].sort((a, b) => (a < b ? -1 : 1))).toEqual(bits);
    expect(PERMISSION_NAMES[0]).toBe("CREATE_INSTANT_INVITE");
    expect(PERMISSION_NAMES.at(-1)).toBe("PIN_MESSAGES");
  });

  it("parses Discord's example (Send Messages | Add Reactions = 2112) and formats it back", () => {
    const bits = parsePermissions("2112");
    expect(bits).toBe(PERMISSIONS.SEND_MESSAGES | PERMISSIONS.ADD_REACTIONS);
    expect(formatPermissions(bits)).toBe("2112");
    expect(parsePermissions("0")).toBe(0n);
    expect(parsePermissions(formatPermissions(ALL_PERMISSIONS))).toBe(ALL_PERMISSIONS);
  });

  it("rejects negatives, non-digits and empty strings, naming the value", () => {
    for (const value of ["-8", "", " 8", "8 ", "+8", "0x10", "1e3", "1.0", "８", "abc"]) {
      const { code, message, field } = rejection(value);
      expect(code).toBe("BAD_USER_INPUT");
      expect(field).toBe("permissions");
      expect(message).toContain(`"${value}"`);
    }
  });

  it("rejects bits Beep does not know (PRIORITY_SPEAKER, USE_VAD, bits past PIN_MESSAGES), naming them", () => {
    const prioritySpeaker = rejection("256");
    expect(prioritySpeaker.code).toBe("BAD_USER_INPUT");
    expect(prioritySpeaker.message).toContain('"256"');
    expect(prioritySpeaker.message).toContain("unknown permission bits 256");
    const mixed = (PERMISSIONS.VIEW_CHANNEL | (1n << 25n)).toString();
    expect(rejection(mixed).message).toContain(`unknown permission bits ${1n << 25n}`);
    expect(rejection((1n << 52n).toString()).code).toBe("BAD_USER_INPUT");
    expect(rejection("9".repeat(5000)).message.length).toBeLessThan(200);
  });

  it("refuses to format what is not a set of known bits", () => {
    expect(() => formatPermissions(-1n)).toThrow(RangeError);
    expect(() => formatPermissions(1n << 8n)).toThrow(RangeError);
  });

  it("maps names to bits and back", () => {
    const bits = permissionsFromNames(["VIEW_CHANNEL", "PIN_MESSAGES", "ADMINISTRATOR"]);
    expect(bits).toBe((1n << 10n) | (1n << 51n) | (1n << 3n));
    expect(permissionNames(bits)).toEqual(["ADMINISTRATOR", "VIEW_CHANNEL", "PIN_MESSAGES"]);
    expect(permissionNames(ALL_PERMISSIONS)).toEqual(PERMISSION_NAMES);
    expect(() => permissionsFromNames(["VIEW_CHANNEL", "READ_MESSAGES"])).toThrow(/READ_MESSAGES/);
    expect(() => permissionsFromNames(["toString"])).toThrow(/toString/);
  });
});
