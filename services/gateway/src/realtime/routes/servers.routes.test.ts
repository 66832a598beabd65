import type { BusEvent } from "@beep/bus";
import { describe, expect, it } from "vitest";
import { serversEventRoute } from "./servers.routes.ts";

const event = (type: string, payload: unknown): BusEvent => ({
  id: "1",
  type,
  occurredAt: "2026-01-01T00:00:00.000Z",
  payload,
});
const route = (type: string, payload: unknown) => serversEventRoute(event(type, payload));
const server = { id: "S", name: "Lab", ownerId: "O" };
const channel = { id: "C", serverId: "S", name: "general", parentId: "", overwrites: [] };
const role = { id: "R", serverId: "S", name: "mods" };
const member = { serverId: "S", userId: "U", roleIds: [], owner: false };

describe("servers routes", () => {
  it("sends server events to the server's members", () => {
    expect(route("server.created", { serverId: "S", ownerId: "O", server })).toEqual([
      { audience: { kind: "server", serverId: "S" }, typename: "ServerCreated", data: { server } },
    ]);
    expect(route("server.updated", { serverId: "S", name: "Lab", server })).toEqual([
      { audience: { kind: "server", serverId: "S" }, typename: "ServerUpdated", data: { server } },
    ]);
    expect(route("server.deleted", { serverId: "S" })).toEqual([
      { audience: { kind: "server", serverId: "S" }, typename: "ServerDeleted", data: { serverId: "S" } },
    ]);
  });

  it("sends channel events to those who may view the channel; a delete names every deleted channel", () => {
    for (const [type, typename] of [
      ["channel.created", "ChannelCreated"],
      ["channel.updated", "ChannelUpdated"],
    ] as const) {
      expect(route(type, { serverId: "S", channelId: "C", channel })).toEqual([
        { audience: { kind: "channel", serverId: "S", channelId: "C" }, typename, data: { channel } },
      ]);
    }
    expect(
      route("channel.deleted", { serverId: "S", channelId: "F", deletedChannelIds: ["F", "C"] }),
    ).toEqual([
      {
        audience: { kind: "channel", serverId: "S", channelId: "F" },
        typename: "ChannelDeleted",
        data: { serverId: "S", channelId: "F", deletedChannelIds: ["F", "C"] },
      },
    ]);
    // An older payload without the list still names the channel.
    expect(route("channel.deleted", { serverId: "S", channelId: "C" })[0]?.data).toEqual({
      serverId: "S",
      channelId: "C",
      deletedChannelIds: ["C"],
    });
  });

  it("sends role and member events to the server; MemberLeft also to the member who left", () => {
    expect(route("role.created", { serverId: "S", roleId: "R", role })).toEqual([
      { audience: { kind: "server", serverId: "S" }, typename: "RoleCreated", data: { role } },
    ]);
    expect(route("role.updated", { serverId: "S", roleId: "R", role })[0]?.typename).toBe("RoleUpdated");
    expect(route("role.deleted", { serverId: "S", roleId: "R" })).toEqual([
      {
        audience: { kind: "server", serverId: "S" },
        typename: "RoleDeleted",
        data: { serverId: "S", roleId: "R" },
      },
    ]);
    expect(route("member.joined", { serverId: "S", userId: "U", member })).toEqual([
      { audience: { kind: "server", serverId: "S" }, typename: "MemberJoined", data: { member } },
    ]);
    expect(route("member.updated", { serverId: "S", userId: "U", timedOutUntil: null, member })).toEqual([
      { audience: { kind: "server", serverId: "S" }, typename: "MemberUpdated", data: { member } },
    ]);
    for (const [reason, value] of [
      ["left", "LEFT"],
      ["leave", "LEFT"],
      ["kick", "KICK"],
      ["ban", "BAN"],
    ]) {
      const data = { serverId: "S", userId: "U", reason: value };
      expect(route("member.left", { serverId: "S", userId: "U", reason })).toEqual([
        { audience: { kind: "server", serverId: "S" }, typename: "MemberLeft", data },
        { audience: { kind: "users", userIds: ["U"] }, typename: "MemberLeft", data },
      ]);
    }
  });

  it("sends an invite to its recipient only", () => {
    const invite = { code: "abc", serverId: "S" };
    expect(route("invite.received", { serverId: "S", userId: "U", invite })).toEqual([
      {
        audience: { kind: "users", userIds: ["U"] },
        typename: "InviteReceived",
        data: { serverId: "S", invite },
      },
    ]);
  });

  it("routes nothing for bans, unbans, other features' events and malformed payloads", () => {
    expect(route("member.banned", { serverId: "S", userId: "U" })).toEqual([]);
    expect(route("member.unbanned", { serverId: "S", userId: "U" })).toEqual([]);
    expect(route("user.updated", { user: { id: "U" } })).toEqual([]);
    expect(route("server.updated", { serverId: "S" })).toEqual([]); // no view: nothing to render
    expect(route("channel.created", { serverId: "S", channelId: "C" })).toEqual([]);
    expect(route("member.left", { serverId: "S", userId: "U", reason: "vanished" })).toEqual([]);
    expect(route("role.deleted", { serverId: 5, roleId: "R" })).toEqual([]);
    expect(route("server.deleted", null)).toEqual([]);
    expect(route("server.deleted", "S")).toEqual([]);
  });
});
