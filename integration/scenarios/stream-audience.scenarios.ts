import { describe, expect, it } from "vitest";
import { collect, dataOf, graphql, wsClient } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const VIEW_CHANNEL = 1n << 10n;

const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id } } }`;
const UPDATE_SERVER = `mutation ($input: UpdateServerInput!) { updateServer(input: $input) { server { id } } }`;
const JOIN = `mutation ($input: ServerIdInput!) { joinServer(input: $input) { server { id } } }`;
const ROLES = `query ($id: ID!) { server(id: $id) { roles { id permissions everyone } } }`;
const CREATE_CHANNEL = `mutation ($input: CreateChannelInput!) { createChannel(input: $input) { channel { id } } }`;
const UPDATE_CHANNEL = `mutation ($input: UpdateChannelInput!) { updateChannel(input: $input) { channel { id } } }`;
const CREATE_ROLE = `mutation ($input: CreateRoleInput!) { createRole(input: $input) { role { id } } }`;
const UPDATE_ROLE = `mutation ($input: UpdateRoleInput!) { updateRole(input: $input) { role { id } } }`;
const ASSIGN_ROLE = `mutation ($input: MemberRoleInput!) { assignRole(input: $input) { member { userId } } }`;
const SET_OVERWRITE = `mutation ($input: SetChannelOverwriteInput!) { setChannelOverwrite(input: $input) { channel { id } } }`;
const DELETE_OVERWRITE = `mutation ($input: DeleteChannelOverwriteInput!) { deleteChannelOverwrite(input: $input) { channel { id } } }`;
const KICK = `mutation ($input: KickMemberInput!) { kickMember(input: $input) { userId } }`;
const BAN = `mutation ($input: BanMemberInput!) { banMember(input: $input) { ban { userId } } }`;
const UPDATE_PROFILE = `mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { user { id } } }`;

const EVENTS = `subscription { events { seq event {
  __typename
  ... on UserUpdated { user { id bio } }
  ... on ServerUpdated { server { id name } }
  ... on ChannelCreated { channel { id name serverId } }
  ... on ChannelUpdated { channel { id name serverId } }
  ... on ChannelDeleted { channelId deletedChannelIds }
  ... on RoleUpdated { role { id serverId permissions } }
  ... on MemberJoined { member { userId serverId } }
  ... on MemberLeft { serverId userId reason }
} } }`;

/** What the scenarios read of an event. */
interface StreamEvent {
  __typename: string;
  user?: { id: string; bio: string };
  server?: { id: string; name: string };
  channel?: { id: string; name: string; serverId: string };
  role?: { id: string; serverId: string; permissions: string };
  member?: { userId: string; serverId: string };
  serverId?: string;
  userId?: string;
  reason?: string;
}
interface Envelope {
  events: { seq: string; event: StreamEvent };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Server, channel and membership events reach exactly the members allowed to see them (issues 4 and 5). */
export function defineStreamAudienceScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;
  const call = async <T>(query: string, input: Record<string, unknown>, token: string) =>
    dataOf(await graphql<T>(url(), query, { input }, token));

  /** A signed-in user with a live `events` stream (a profile change of theirs has come through). */
  async function streamingUser() {
    const user = await signedInUser(url());
    const socket = wsClient(url(), user.accessToken);
    const stream = collect<Envelope>(socket.client, EVENTS);
    let sentinels = 0;
    const events = () => stream.events.map((e) => e.events.event);
    /**
     * Waits until a profile change made now reaches this stream: every event routed before it has been
     * delivered (the gateway processes events in log order and writes each socket in order).
     */
    async function settle(): Promise<void> {
      sentinels += 1;
      const bio = `sentinel-${sentinels}`;
      await call(UPDATE_PROFILE, { bio }, user.accessToken);
      const deadline = Date.now() + 10_000;
      while (!events().some((e) => e.__typename === "UserUpdated" && e.user?.bio === bio)) {
        if (Date.now() > deadline) throw new Error(`${bio} never arrived`);
        await sleep(25);
      }
    }
    // The stream goes live once attached: retry the first sentinel until one arrives.
    for (let attempt = 0; ; attempt++) {
      try {
        await call(UPDATE_PROFILE, { bio: `warm-${attempt}` }, user.accessToken);
        const deadline = Date.now() + 500;
        while (stream.events.length === 0 && Date.now() < deadline) await sleep(25);
        if (stream.events.length > 0) break;
      } catch (error) {
        if (attempt > 40) throw error;
      }
      if (attempt > 40) throw new Error(`events stream never went live: ${JSON.stringify(stream.errors)}`);
    }
    return {
      userId: user.user.id,
      token: user.accessToken,
      events,
      settle,
      /** Events of one type about one id (channel, server or member). */
      about: (typename: string, id: string) =>
        events().filter(
          (e) =>
            e.__typename === typename &&
            (e.channel?.id === id || e.server?.id === id || e.role?.id === id || e.userId === id),
        ),
      /** Waits for an event matching `match`. */
      async waitFor(match: (e: StreamEvent) => boolean, what: string): Promise<StreamEvent> {
        const deadline = Date.now() + 10_000;
        for (;;) {
          const found = events().find(match);
          if (found) return found;
          if (Date.now() > deadline) throw new Error(`${what} never arrived`);
          await sleep(25);
        }
      },
      async close() {
        stream.dispose();
        await socket.client.dispose();
      },
    };
  }
  type Streaming = Awaited<ReturnType<typeof streamingUser>>;

  /** A public server owned by `owner` that each of `members` joined. */
  async function serverWith(owner: Streaming, members: Streaming[]): Promise<string> {
    const { createServer } = await call<{ createServer: { server: { id: string } } }>(
      CREATE_SERVER,
      { name: "Audience lab", description: "", public: true },
      owner.token,
    );
    for (const member of members) await call(JOIN, { serverId: createServer.server.id }, member.token);
    return createServer.server.id;
  }

  const createChannel = async (owner: Streaming, serverId: string, name: string) =>
    (
      await call<{ createChannel: { channel: { id: string } } }>(
        CREATE_CHANNEL,
        { serverId, name, type: "TEXT" },
        owner.token,
      )
    ).createChannel.channel.id;

  describe("stream audiences", () => {
    it("a member sees a public channel's ChannelCreated; one without VIEW_CHANNEL never sees a private one's; RoleUpdated reaches members", async () => {
      const [owner, plain, insider] = await Promise.all([streamingUser(), streamingUser(), streamingUser()]);
      try {
        const serverId = await serverWith(owner, [plain, insider]);
        const open = await createChannel(owner, serverId, "open");
        await plain.waitFor(
          (e) => e.__typename === "ChannelCreated" && e.channel?.id === open,
          "open's ChannelCreated",
        );

        // @everyone loses VIEW_CHANNEL; role "insiders" grants it to one member.
        const { server } = dataOf(
          await graphql<{ server: { roles: Array<{ id: string; permissions: string; everyone: boolean }> } }>(
            url(),
            ROLES,
            { id: serverId },
            owner.token,
          ),
        );
        const everyone = server.roles.find((role) => role.everyone);
        if (!everyone) throw new Error("no @everyone");
        const { createRole } = await call<{ createRole: { role: { id: string } } }>(
          CREATE_ROLE,
          { serverId, name: "insiders", permissions: String(VIEW_CHANNEL) },
          owner.token,
        );
        await call(
          ASSIGN_ROLE,
          { serverId, roleId: createRole.role.id, userId: insider.userId },
          owner.token,
        );
        const hidden = String(BigInt(everyone.permissions) & ~VIEW_CHANNEL);
        await call(UPDATE_ROLE, { serverId, roleId: everyone.id, permissions: hidden }, owner.token);
        for (const member of [plain, insider]) {
          const updated = await member.waitFor(
            (e) => e.__typename === "RoleUpdated" && e.role?.id === everyone.id,
            "RoleUpdated of @everyone",
          );
          expect(updated.role).toEqual({ id: everyone.id, serverId, permissions: hidden });
        }

        const secret = await createChannel(owner, serverId, "secret");
        await call(UPDATE_CHANNEL, { channelId: secret, name: "secret-renamed" }, owner.token);
        for (const viewer of [owner, insider]) {
          await viewer.waitFor(
            (e) => e.__typename === "ChannelUpdated" && e.channel?.name === "secret-renamed",
            "secret's ChannelUpdated",
          );
          expect(viewer.about("ChannelCreated", secret)).toHaveLength(1);
        }
        await plain.settle();
        expect(plain.about("ChannelCreated", secret)).toEqual([]);
        expect(plain.about("ChannelUpdated", secret)).toEqual([]);
      } finally {
        await Promise.all([owner.close(), plain.close(), insider.close()]);
      }
    });

    it("an overwrite denying VIEW_CHANNEL stops the channel's events at once (the owner still gets them); removing it brings them back", async () => {
      const [owner, member] = await Promise.all([streamingUser(), streamingUser()]);
      try {
        const serverId = await serverWith(owner, [member]);
        const room = await createChannel(owner, serverId, "room");
        const rename = (name: string) => call(UPDATE_CHANNEL, { channelId: room, name }, owner.token);
        await rename("room-1");
        await member.waitFor((e) => e.channel?.name === "room-1", "room-1");

        await call(
          SET_OVERWRITE,
          { channelId: room, targetType: "MEMBER", targetId: member.userId, deny: String(VIEW_CHANNEL) },
          owner.token,
        );
        await rename("room-2");
        await owner.waitFor((e) => e.channel?.name === "room-2", "room-2 for the owner");
        await member.settle();
        const names = member.about("ChannelUpdated", room).map((e) => e.channel?.name);
        expect(names).toEqual(["room-1"]); // not the overwrite's own update, not room-2

        await call(
          DELETE_OVERWRITE,
          { channelId: room, targetType: "MEMBER", targetId: member.userId },
          owner.token,
        );
        await rename("room-3");
        await member.waitFor((e) => e.channel?.name === "room-3", "room-3 after the overwrite went");
        await owner.waitFor((e) => e.channel?.name === "room-3", "room-3 for the owner");
        // Removing the overwrite is itself a ChannelUpdated (still named room-2) the member may now see.
        expect(member.about("ChannelUpdated", room).map((e) => e.channel?.name)).toEqual([
          "room-1",
          "room-2",
          "room-3",
        ]);
      } finally {
        await Promise.all([owner.close(), member.close()]);
      }
    });

    for (const [how, reason] of [
      ["kicked", "KICK"],
      ["banned", "BAN"],
    ] as const) {
      it(`a ${how} member gets MemberLeft (${reason}) and then nothing of the server`, async () => {
        const [owner, member, bystander] = await Promise.all([
          streamingUser(),
          streamingUser(),
          streamingUser(),
        ]);
        try {
          const serverId = await serverWith(owner, [member, bystander]);
          const room = await createChannel(owner, serverId, "before");
          await member.waitFor((e) => e.channel?.id === room, "ChannelCreated before the removal");

          if (reason === "KICK") await call(KICK, { serverId, userId: member.userId }, owner.token);
          else await call(BAN, { serverId, userId: member.userId }, owner.token);
          const left = { __typename: "MemberLeft", serverId, userId: member.userId, reason };
          expect(await member.waitFor((e) => e.__typename === "MemberLeft", "their MemberLeft")).toEqual(
            left,
          );
          expect(
            await bystander.waitFor((e) => e.__typename === "MemberLeft", "the bystander's MemberLeft"),
          ).toEqual(left);

          await call(UPDATE_SERVER, { serverId, name: "Renamed lab" }, owner.token);
          const after = await createChannel(owner, serverId, "after");
          await call(UPDATE_CHANNEL, { channelId: room, name: "before-renamed" }, owner.token);
          await bystander.waitFor((e) => e.channel?.name === "before-renamed", "the bystander's last event");
          await member.settle();
          const theirs = member.events().filter((e) => e.__typename !== "UserUpdated");
          const index = theirs.findIndex((e) => e.__typename === "MemberLeft");
          expect(theirs.slice(index)).toEqual([left]); // exactly once, and nothing after it
          expect(member.about("ChannelCreated", after)).toEqual([]);
        } finally {
          await Promise.all([owner.close(), member.close(), bystander.close()]);
        }
      });
    }
  });
}
