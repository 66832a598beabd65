import type { BusEvent } from "@beep/bus";
import { describe, expect, it } from "vitest";
import { ServerAudienceIndex, type UserVisibility, visibilityChange } from "./server-audience-index.ts";

/** A fake servers service: user → server → visible channels, as VisibleChannels would answer now. */
class FakeWorld {
  readonly visible = new Map<string, Map<string, string[]>>();
  calls: string[][] = [];
  failures = 0;
  /** When set, the next answer waits for this promise (to interleave events with a load). */
  gate: Promise<void> | undefined;

  set(userId: string, serverId: string, channelIds: string[] | undefined): void {
    const servers = this.visible.get(userId) ?? new Map<string, string[]>();
    if (channelIds) servers.set(serverId, channelIds);
    else servers.delete(serverId);
    this.visible.set(userId, servers);
  }

  readonly fn = async (userIds: readonly string[]): Promise<UserVisibility[]> => {
    this.calls.push([...userIds]);
    // Read first, answer later: like a database read that predates a change still in flight.
    const answer = userIds.map((userId) => ({
      userId,
      servers: [...(this.visible.get(userId) ?? [])].map(([serverId, channelIds]) => ({
        serverId,
        channelIds: [...channelIds],
      })),
    }));
    const gate = this.gate;
    this.gate = undefined;
    if (gate) await gate;
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error("servers unavailable");
    }
    return answer;
  };
}

let ids = 0;
const event = (type: string, payload: Record<string, unknown>): BusEvent => {
  ids += 1;
  return { id: String(ids), type, occurredAt: new Date().toISOString(), payload };
};
const sorted = (users: Iterable<string>) => [...users].sort();

/** Server S with channels general (everyone) and secret (owner only); owner O, members A and B. */
async function scene() {
  const world = new FakeWorld();
  world.set("O", "S", ["general", "secret"]);
  world.set("A", "S", ["general"]);
  world.set("B", "S", ["general"]);
  const index = new ServerAudienceIndex(world.fn);
  for (const user of ["O", "A", "B"]) await index.attach(user);
  world.calls = [];
  return { world, index };
}
const channel = (channelId: string) => ({ kind: "channel" as const, serverId: "S", channelId });
const server = { kind: "server" as const, serverId: "S" };

describe("ServerAudienceIndex", () => {
  it("indexes attached users by server and by visible channel; users audiences pass for attached users", async () => {
    const { index } = await scene();
    expect(sorted(index.recipients(server))).toEqual(["A", "B", "O"]);
    expect(sorted(index.recipients(channel("general")))).toEqual(["A", "B", "O"]);
    expect(sorted(index.recipients(channel("secret")))).toEqual(["O"]);
    expect(sorted(index.recipients({ kind: "channel", serverId: "other", channelId: "secret" }))).toEqual([]);
    expect(sorted(index.recipients({ kind: "users", userIds: ["A", "Z"] }))).toEqual(["A"]);
    expect(sorted(index.recipients({ kind: "server", serverId: "nope" }))).toEqual([]);
  });

  it("recomputes every attached member of the server in ONE call when an overwrite or role changes", async () => {
    const { world, index } = await scene();
    world.set("A", "S", ["general", "secret"]); // A gains the secret channel
    world.set("B", "S", []); // B loses general
    await index.observe(event("channel.updated", { serverId: "S", channelId: "secret" }));
    expect(world.calls).toHaveLength(1);
    expect(sorted(world.calls[0] ?? [])).toEqual(["A", "B", "O"]);
    expect(sorted(index.recipients(channel("secret")))).toEqual(["A", "O"]);
    expect(sorted(index.recipients(channel("general")))).toEqual(["A", "O"]);
    expect(sorted(index.recipients(server))).toEqual(["A", "B", "O"]);

    world.set("A", "S", ["general"]);
    for (const type of ["role.updated", "role.deleted", "channel.created"]) {
      await index.observe(event(type, { serverId: "S", roleId: "r", channelId: "c" }));
    }
    expect(sorted(index.recipients(channel("secret")))).toEqual(["O"]);
    expect(world.calls).toHaveLength(4);
  });

  it("skips the recompute when an update keeps overwrites or role permissions (a rename, a reorder)", async () => {
    const { world, index } = await scene();
    const overwrites = [{ targetType: "role", targetId: "S", allow: "0", deny: "1024" }];
    const channelUpdated = (name: string, list: unknown[]) =>
      event("channel.updated", {
        serverId: "S",
        channelId: "secret",
        channel: { id: "secret", name, overwrites: list },
      });
    await index.observe(channelUpdated("a", overwrites));
    expect(world.calls).toHaveLength(1); // first sight: no fingerprint yet
    await index.observe(channelUpdated("b", overwrites));
    expect(world.calls).toHaveLength(1); // a rename
    world.set("A", "S", ["general", "secret"]);
    await index.observe(channelUpdated("b", []));
    expect(world.calls).toHaveLength(2); // the overwrite went
    expect(sorted(index.recipients(channel("secret")))).toEqual(["A", "O"]);

    const roleUpdated = (position: number, permissions: string) =>
      event("role.updated", { serverId: "S", roleId: "R", role: { id: "R", position, permissions } });
    await index.observe(
      event("role.created", { serverId: "S", roleId: "R", role: { id: "R", permissions: "0" } }),
    );
    await index.observe(roleUpdated(2, "0"));
    expect(world.calls).toHaveLength(2); // created with no holder, then moved
    await index.observe(roleUpdated(2, "1024"));
    expect(world.calls).toHaveLength(3);
    await index.observe(event("role.deleted", { serverId: "S", roleId: "R" }));
    expect(world.calls).toHaveLength(4);
  });

  it("drops a member who left, was kicked or banned at once, with no call", async () => {
    const { world, index } = await scene();
    await index.observe(event("member.left", { serverId: "S", userId: "A", reason: "kick" }));
    await index.observe(event("member.banned", { serverId: "S", userId: "B" }));
    expect(sorted(index.recipients(server))).toEqual(["O"]);
    expect(sorted(index.recipients(channel("general")))).toEqual(["O"]);
    expect(world.calls).toEqual([]);
    // Still attached: their own events reach them.
    expect(sorted(index.recipients({ kind: "users", userIds: ["A", "B"] }))).toEqual(["A", "B"]);
  });

  it("keeps a deleted channel's or server's audience until the next event, then forgets it", async () => {
    const { world, index } = await scene();
    world.set("O", "S", ["general"]);
    await index.observe(
      event("channel.deleted", { serverId: "S", channelId: "secret", deletedChannelIds: ["secret"] }),
    );
    expect(sorted(index.recipients(channel("secret")))).toEqual(["O"]); // the deletion itself is routed
    await index.observe(event("user.updated", { user: { id: "x" } }));
    expect(sorted(index.recipients(channel("secret")))).toEqual([]);

    for (const user of ["O", "A", "B"]) world.set(user, "S", undefined);
    await index.observe(event("server.deleted", { serverId: "S" }));
    expect(sorted(index.recipients(server))).toEqual(["A", "B", "O"]);
    await index.observe(event("message.created", { serverId: "T", channelId: "t" }));
    expect(sorted(index.recipients(server))).toEqual([]);
    expect(sorted(index.recipients(channel("general")))).toEqual([]);
    expect(world.calls).toEqual([]);
  });

  it("adds a server when an attached user joins it or creates it; ignores users not attached here", async () => {
    const { world, index } = await scene();
    world.set("A", "T", ["t1"]);
    await index.observe(event("member.joined", { serverId: "T", userId: "A" }));
    expect(world.calls).toEqual([["A"]]);
    expect(sorted(index.recipients({ kind: "server", serverId: "T" }))).toEqual(["A"]);
    expect(sorted(index.recipients({ kind: "channel", serverId: "T", channelId: "t1" }))).toEqual(["A"]);

    world.set("B", "U", ["u1"]);
    await index.observe(event("server.created", { serverId: "U", ownerId: "B", server: { ownerId: "B" } }));
    expect(sorted(index.recipients({ kind: "server", serverId: "U" }))).toEqual(["B"]);

    world.calls = [];
    await index.observe(event("member.joined", { serverId: "T", userId: "elsewhere" }));
    await index.observe(event("server.updated", { serverId: "S", name: "renamed" }));
    await index.observe(event("role.created", { serverId: "S", roleId: "r" }));
    expect(world.calls).toEqual([]); // nothing that moves visibility, or nobody here
    await index.observe(event("server.updated", { serverId: "S", ownerId: "A" }));
    expect(world.calls).toHaveLength(1); // an owner change does
  });

  it("releases everything about a user on their last detach (streams are counted)", async () => {
    const { index } = await scene();
    await index.attach("A"); // a second stream
    index.detach("A");
    expect(sorted(index.recipients(server))).toContain("A");
    index.detach("A");
    expect(sorted(index.recipients(server))).toEqual(["B", "O"]);
    expect(sorted(index.recipients({ kind: "users", userIds: ["A"] }))).toEqual([]);
    index.detach("B");
    index.detach("O");
    expect(index.sizes()).toEqual({ users: 0, servers: 0, channels: 0 });
    expect(index.attachedUsers).toBe(0);
  });

  it("re-reads a snapshot when a change is observed while it loads", async () => {
    const world = new FakeWorld();
    world.set("A", "S", ["general", "secret"]);
    const index = new ServerAudienceIndex(world.fn);
    let release = () => {};
    world.gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const attaching = index.attach("A"); // reads {general, secret}, then waits
    world.set("A", "S", ["general"]);
    await index.observe(event("channel.updated", { serverId: "S", channelId: "secret" }));
    release();
    await attaching;
    expect(world.calls).toHaveLength(2);
    expect(sorted(index.recipients(channel("secret")))).toEqual([]);
    expect(sorted(index.recipients(channel("general")))).toEqual(["A"]);
  });

  it("fails closed when the servers service keeps failing, and retries a passing failure", async () => {
    const { world, index } = await scene();
    world.failures = 1;
    await index.observe(event("role.updated", { serverId: "S", roleId: "r" }));
    expect(sorted(index.recipients(server))).toEqual(["A", "B", "O"]);
    world.failures = 3;
    await index.observe(event("role.updated", { serverId: "S", roleId: "r" }));
    expect(sorted(index.recipients(server))).toEqual([]);
    expect(sorted(index.recipients(channel("general")))).toEqual([]);
  });

  it("an attach that fails leaves nothing behind", async () => {
    const world = new FakeWorld();
    world.failures = 1;
    const index = new ServerAudienceIndex(world.fn);
    await expect(index.attach("A")).rejects.toThrow("servers unavailable");
    expect(index.attachedUsers).toBe(0);
    expect(index.sizes()).toEqual({ users: 0, servers: 0, channels: 0 });
  });
});

describe("visibilityChange", () => {
  it("names what each servers event changes", () => {
    const of = (type: string, payload: Record<string, unknown>) =>
      visibilityChange(event(type, payload))?.kind;
    expect(of("channel.deleted", { serverId: "S", channelId: "f", deletedChannelIds: ["f", "c"] })).toBe(
      "drop-channels",
    );
    expect(visibilityChange(event("channel.deleted", { serverId: "S", channelId: "f" }))).toEqual({
      kind: "drop-channels",
      serverId: "S",
      channelIds: ["f"],
    });
    expect(of("member.updated", { serverId: "S", userId: "A", timedOutUntil: null })).toBe("recompute-user");
    expect(of("member.unbanned", { serverId: "S", userId: "A" })).toBeUndefined();
    expect(of("message.created", { serverId: "S", channelId: "c" })).toBeUndefined();
    expect(of("role.updated", {})).toBeUndefined();
  });
});

describe("observe's visibility shifts (kept in the replay ring for resumes)", () => {
  it("reports who may see differently after each event, attached here or not; nothing for new things or renames", async () => {
    const { index } = await scene();
    const observe = (type: string, payload: Record<string, unknown>) => index.observe(event(type, payload));
    const overwrites = (list: unknown[]) => ({
      serverId: "S",
      channelId: "secret",
      channel: { overwrites: list },
    });
    expect(await observe("message.created", { serverId: "S", channelId: "general" })).toBeUndefined();
    expect(
      await observe("channel.created", { serverId: "S", channelId: "new", channel: {} }),
    ).toBeUndefined();
    expect(await observe("server.created", { serverId: "T", server: { ownerId: "A" } })).toBeUndefined();
    expect(await observe("channel.updated", overwrites([{ targetId: "A" }]))).toEqual({ serverId: "S" });
    expect(await observe("channel.updated", overwrites([{ targetId: "A" }]))).toBeUndefined(); // a rename
    expect(await observe("member.joined", { serverId: "S", userId: "Z", member: {} })).toEqual({
      serverId: "S",
      userId: "Z",
    });
    expect(await observe("member.left", { serverId: "S", userId: "A", reason: "kick" })).toEqual({
      serverId: "S",
      userId: "A",
    });
    expect(await observe("channel.deleted", { serverId: "S", channelId: "secret" })).toEqual({
      serverId: "S",
    });
    expect(await observe("server.deleted", { serverId: "S" })).toEqual({
      serverId: "S",
      serverDeleted: true,
    });
  });
});
