import { describe, expect, it } from "vitest";
import { dataOf, type GraphqlResponse, graphql } from "../harness/graphql-client.ts";
import { SPLIT_INTERNAL_TOKEN, type Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const VIEW_CHANNEL = 1n << 10n;

const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id channels { id name } } } }`;
const JOIN = `mutation ($input: ServerIdInput!) { joinServer(input: $input) { server { id } } }`;
const CREATE_CHANNEL = `mutation ($input: CreateChannelInput!) { createChannel(input: $input) { channel { id } } }`;
const SET_OVERWRITE = `mutation ($input: SetChannelOverwriteInput!) { setChannelOverwrite(input: $input) { channel { id } } }`;

const MESSAGE_FIELDS = `id serverId channelId authorId content nonce createdAt editedAt replyToId pinned pinnedAt pinnedBy
  replyTo { id deleted authorId content } mentions { userIds roleIds channelIds everyone } embeds { type }`;
const SEND = `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { message { ${MESSAGE_FIELDS} } } }`;
const EDIT = `mutation ($input: EditMessageInput!) { editMessage(input: $input) { message { ${MESSAGE_FIELDS} } } }`;
const DELETE = `mutation ($input: MessageIdInput!) { deleteMessage(input: $input) { messageId channelId } }`;
const PIN = `mutation ($input: MessageIdInput!) { pinMessage(input: $input) { message { id pinned pinnedBy } } }`;
const UNPIN = `mutation ($input: MessageIdInput!) { unpinMessage(input: $input) { message { id pinned } } }`;
const BAN = `mutation ($input: BanMemberInput!) { banMember(input: $input) { ban { userId } } }`;
const TYPING = `mutation ($input: StartTypingInput!) { startTyping(input: $input) { expiresAt } }`;
const MESSAGE = `query ($id: ID!) { message(id: $id) { ${MESSAGE_FIELDS} } }`;
const PINS = `query ($channelId: ID!) { pins(channelId: $channelId) { id } }`;
const HISTORY = `query ($channelId: ID!, $before: ID, $after: ID, $around: ID, $limit: Int) {
  messages(channelId: $channelId, before: $before, after: $after, around: $around, limit: $limit) {
    hasMore messages { id authorId content }
  } }`;

interface MessageData {
  id: string;
  serverId: string;
  channelId: string;
  authorId: string;
  content: string;
  nonce: string | null;
  editedAt: string | null;
  replyToId: string | null;
  pinned: boolean;
  pinnedBy: string | null;
  replyTo: { id: string; deleted: boolean; authorId: string | null; content: string | null } | null;
  mentions: { userIds: string[]; roleIds: string[]; channelIds: string[]; everyone: boolean };
  embeds: unknown[];
}

const codeOf = (response: GraphqlResponse<unknown>) => response.errors?.[0]?.extensions?.code;

/** Messages through the gateway (MSG-1 … MSG-6, MSG-10); run unchanged against every topology. */
export function defineMessagesScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;

  /** A public server with its owner, one member and #general. */
  async function community() {
    const owner = await signedInUser(url());
    const member = await signedInUser(url());
    const { createServer } = dataOf(
      await graphql<{ createServer: { server: { id: string; channels: Array<{ id: string }> } } }>(
        url(),
        CREATE_SERVER,
        { input: { name: "Messages", public: true } },
        owner.accessToken,
      ),
    );
    dataOf(await graphql(url(), JOIN, { input: { serverId: createServer.server.id } }, member.accessToken));
    return { owner, member, serverId: createServer.server.id, general: createServer.server.channels[0]!.id };
  }

  const send = async (token: string, input: Record<string, unknown>) =>
    dataOf(await graphql<{ sendMessage: { message: MessageData } }>(url(), SEND, { input }, token))
      .sendMessage.message;

  describe("messages", () => {
    it("sends (idempotent nonce, mentions), edits, replies, pins, lists pins and deletes through GraphQL", async () => {
      const { owner, member, serverId, general } = await community();
      const first = await send(member.accessToken, {
        channelId: general,
        content: `hello **@${owner.identity.username}** in #general`,
        nonce: "n-1",
      });
      expect(first).toMatchObject({ serverId, channelId: general, authorId: member.user.id, nonce: "n-1" });
      expect(first.mentions).toEqual({
        userIds: [owner.user.id],
        roleIds: [],
        channelIds: [general],
        everyone: false,
      });
      const retried = await send(member.accessToken, {
        channelId: general,
        content: "hello again",
        nonce: "n-1",
      });
      expect(retried.id).toBe(first.id);
      expect(retried.content).toBe(first.content);

      const empty = await graphql(
        url(),
        SEND,
        { input: { channelId: general, content: "  " } },
        member.accessToken,
      );
      expect(codeOf(empty)).toBe("BAD_USER_INPUT");
      const long = await graphql(
        url(),
        SEND,
        { input: { channelId: general, content: "x".repeat(4001) } },
        member.accessToken,
      );
      expect(codeOf(long)).toBe("BAD_USER_INPUT");

      const edited = dataOf(
        await graphql<{ editMessage: { message: MessageData } }>(
          url(),
          EDIT,
          { input: { messageId: first.id, content: "hello, edited" } },
          member.accessToken,
        ),
      ).editMessage.message;
      expect(edited.content).toBe("hello, edited");
      expect(edited.editedAt).not.toBeNull();
      expect(
        codeOf(
          await graphql(
            url(),
            EDIT,
            { input: { messageId: first.id, content: "mine now" } },
            owner.accessToken,
          ),
        ),
      ).toBe("FORBIDDEN");

      const reply = await send(owner.accessToken, {
        channelId: general,
        content: "welcome",
        replyToId: first.id,
      });
      expect(reply.replyTo).toEqual({
        id: first.id,
        deleted: false,
        authorId: member.user.id,
        content: "hello, edited",
      });

      expect(codeOf(await graphql(url(), PIN, { input: { messageId: first.id } }, member.accessToken))).toBe(
        "FORBIDDEN",
      );
      const pinned = dataOf(
        await graphql<{ pinMessage: { message: { pinned: boolean; pinnedBy: string } } }>(
          url(),
          PIN,
          { input: { messageId: first.id } },
          owner.accessToken,
        ),
      );
      expect(pinned.pinMessage.message).toMatchObject({ pinned: true, pinnedBy: owner.user.id });
      const pins = dataOf(
        await graphql<{ pins: Array<{ id: string }> }>(
          url(),
          PINS,
          { channelId: general },
          member.accessToken,
        ),
      );
      expect(pins.pins.map((p) => p.id)).toEqual([first.id]);
      dataOf(await graphql(url(), UNPIN, { input: { messageId: first.id } }, owner.accessToken));
      expect(
        dataOf(await graphql<{ pins: unknown[] }>(url(), PINS, { channelId: general }, member.accessToken))
          .pins,
      ).toEqual([]);

      const typing = dataOf(
        await graphql<{ startTyping: { expiresAt: string } }>(
          url(),
          TYPING,
          { input: { channelId: general } },
          member.accessToken,
        ),
      );
      expect(Date.parse(typing.startTyping.expiresAt)).toBeGreaterThan(Date.now());

      dataOf(await graphql(url(), DELETE, { input: { messageId: first.id } }, member.accessToken));
      expect(codeOf(await graphql(url(), MESSAGE, { id: first.id }, owner.accessToken))).toBe("NOT_FOUND");
      const orphan = dataOf(
        await graphql<{ message: MessageData }>(url(), MESSAGE, { id: reply.id }, member.accessToken),
      );
      expect(orphan.message.replyTo).toEqual({ id: first.id, deleted: true, authorId: null, content: null });
      const history = dataOf(
        await graphql<{ messages: { hasMore: boolean; messages: Array<{ id: string }> } }>(
          url(),
          HISTORY,
          { channelId: general },
          member.accessToken,
        ),
      );
      expect(history.messages).toEqual({
        hasMore: false,
        messages: [{ id: reply.id, authorId: owner.user.id, content: "welcome" }],
      });
    });

    it("a non-member and a member without VIEW_CHANNEL get NOT_FOUND for every message operation; nothing changes", async () => {
      const { owner, member, serverId } = await community();
      const outsider = await signedInUser(url());
      const secret = dataOf(
        await graphql<{ createChannel: { channel: { id: string } } }>(
          url(),
          CREATE_CHANNEL,
          { input: { serverId, name: "staff" } },
          owner.accessToken,
        ),
      ).createChannel.channel.id;
      dataOf(
        await graphql(
          url(),
          SET_OVERWRITE,
          {
            input: { channelId: secret, targetType: "ROLE", targetId: serverId, deny: String(VIEW_CHANNEL) },
          },
          owner.accessToken,
        ),
      );
      const hidden = await send(owner.accessToken, { channelId: secret, content: "staff only" });
      dataOf(await graphql(url(), PIN, { input: { messageId: hidden.id } }, owner.accessToken));
      const before = dataOf(
        await graphql<{ message: MessageData }>(url(), MESSAGE, { id: hidden.id }, owner.accessToken),
      );

      for (const who of [outsider, member]) {
        const token = who.accessToken;
        const attempts = [
          graphql(url(), SEND, { input: { channelId: secret, content: "let me in" } }, token),
          graphql(url(), EDIT, { input: { messageId: hidden.id, content: "defaced" } }, token),
          graphql(url(), DELETE, { input: { messageId: hidden.id } }, token),
          graphql(url(), PIN, { input: { messageId: hidden.id } }, token),
          graphql(url(), UNPIN, { input: { messageId: hidden.id } }, token),
          graphql(url(), TYPING, { input: { channelId: secret } }, token),
          graphql(url(), MESSAGE, { id: hidden.id }, token),
          graphql(url(), PINS, { channelId: secret }, token),
          graphql(url(), HISTORY, { channelId: secret }, token),
          graphql(url(), HISTORY, { channelId: secret, around: hidden.id }, token),
        ];
        for (const response of await Promise.all(attempts)) expect(codeOf(response)).toBe("NOT_FOUND");
      }
      const after = dataOf(
        await graphql<{ message: MessageData }>(url(), MESSAGE, { id: hidden.id }, owner.accessToken),
      );
      expect(after).toEqual(before);
      const history = dataOf(
        await graphql<{ messages: { messages: Array<{ id: string }> } }>(
          url(),
          HISTORY,
          { channelId: secret },
          owner.accessToken,
        ),
      );
      expect(history.messages.messages.map((m) => m.id)).toEqual([hidden.id]);
    });

    it("reads concurrent senders' messages back in id order, each sender's in the order sent", async () => {
      const { owner, serverId, general } = await community();
      const senders = [owner, ...(await Promise.all([1, 2, 3, 4].map(() => signedInUser(url()))))];
      for (const sender of senders.slice(1)) {
        dataOf(await graphql(url(), JOIN, { input: { serverId } }, sender.accessToken));
      }
      const sent = await Promise.all(
        senders.map(async (sender, s) => {
          const ids: string[] = [];
          for (let i = 0; i < 10; i++) {
            ids.push(
              (
                await send(sender.accessToken, {
                  channelId: general,
                  content: `s${s}-${i}`,
                  nonce: `s${s}-${i}`,
                })
              ).id,
            );
          }
          return ids;
        }),
      );
      const page = dataOf(
        await graphql<{ messages: { hasMore: boolean; messages: Array<{ id: string; content: string }> } }>(
          url(),
          HISTORY,
          { channelId: general, limit: 100 },
          owner.accessToken,
        ),
      ).messages;
      const ids = page.messages.map((m) => BigInt(m.id));
      expect(ids).toEqual([...ids].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
      expect(new Set(page.messages.map((m) => m.id))).toEqual(new Set(sent.flat()));
      const oldestFirst = [...page.messages].reverse();
      senders.forEach((_, s) => {
        const mine = oldestFirst.filter((m) => m.content.startsWith(`s${s}-`)).map((m) => m.content);
        expect(mine).toEqual(Array.from({ length: 10 }, (_, i) => `s${s}-${i}`));
      });
      // Paging with after from the oldest walks the same order.
      const oldest = oldestFirst[0]!.id;
      const newer = dataOf(
        await graphql<{ messages: { messages: Array<{ id: string }> } }>(
          url(),
          HISTORY,
          { channelId: general, after: oldest, limit: 100 },
          owner.accessToken,
        ),
      ).messages.messages;
      expect(newer.map((m) => m.id)).toEqual(page.messages.slice(0, -1).map((m) => m.id));
    });

    it("never answers servers' ChannelDirectoryService without the internal token; usernames need a signed-in caller", async () => {
      const { member, general, serverId } = await community();
      const servers = topology().processes.get(topology().kind === "all" ? "beep" : "servers");
      const users = topology().processes.get(topology().kind === "all" ? "beep" : "users");
      const locate = (base: string, headers: Record<string, string> = {}) =>
        fetch(`${base}/beep.servers.v1.ChannelDirectoryService/LocateChannels`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify({ channelIds: [general] }),
        });
      for (const base of [url(), servers?.url ?? ""]) {
        const refused: Array<Record<string, string>> = [
          {},
          { "x-beep-internal-token": "guess" },
          { authorization: `Bearer ${member.accessToken}` },
        ];
        for (const headers of refused) {
          const response = await locate(base, headers);
          expect(response.ok).toBe(false);
          expect(await response.text()).not.toContain(general);
        }
      }
      const memberRoles = (base: string, headers: Record<string, string> = {}) =>
        fetch(`${base}/beep.servers.v1.ChannelDirectoryService/MemberRoles`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify({ serverId, userId: member.user.id }),
        });
      for (const base of [url(), servers?.url ?? ""]) {
        const response = await memberRoles(base, { authorization: `Bearer ${member.accessToken}` });
        expect(response.ok).toBe(false);
      }
      if (topology().kind === "split") {
        const internal = await locate(servers?.url ?? "", { "x-beep-internal-token": SPLIT_INTERNAL_TOKEN });
        expect(internal.status).toBe(200);
        const roles = await memberRoles(servers?.url ?? "", {
          "x-beep-internal-token": SPLIT_INTERNAL_TOKEN,
        });
        expect(await roles.json()).toEqual({ member: true });
      }
      const find = (headers: Record<string, string>) =>
        fetch(`${users?.url ?? ""}/beep.users.v1.UserDirectoryService/FindUsersByUsername`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify({ usernames: [member.identity.username] }),
        });
      const anonymous = await find({});
      expect(anonymous.ok).toBe(false);
      const signedIn = await find({ authorization: `Bearer ${member.accessToken}` });
      expect(await signedIn.json()).toEqual({
        users: [{ id: member.user.id, username: member.identity.username }],
      });
    });

    it("a ban with a delete window removes the banned user's recent messages; others' stay", async () => {
      const { owner, member, serverId, general } = await community();
      const theirs = [
        await send(member.accessToken, { channelId: general, content: "spam 1" }),
        await send(member.accessToken, { channelId: general, content: "spam 2" }),
      ];
      const mine = await send(owner.accessToken, { channelId: general, content: "stays" });
      dataOf(
        await graphql(
          url(),
          BAN,
          { input: { serverId, userId: member.user.id, deleteMessageSeconds: 3600 } },
          owner.accessToken,
        ),
      );
      const history = async () =>
        dataOf(
          await graphql<{ messages: { messages: Array<{ id: string }> } }>(
            url(),
            HISTORY,
            { channelId: general },
            owner.accessToken,
          ),
        ).messages.messages.map((m) => m.id);
      const deadline = Date.now() + 15_000;
      while ((await history()).length > 1 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await history()).toEqual([mine.id]);
      for (const gone of theirs) {
        expect(codeOf(await graphql(url(), MESSAGE, { id: gone.id }, owner.accessToken))).toBe("NOT_FOUND");
      }
    });
  });
}
