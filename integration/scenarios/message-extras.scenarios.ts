import { describe, expect, it } from "vitest";
import { collect, dataOf, type GraphqlResponse, graphql, wsClient } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id channels { id } } } }`;
const JOIN = `mutation ($input: ServerIdInput!) { joinServer(input: $input) { server { id } } }`;
const CREATE_CHANNEL = `mutation ($input: CreateChannelInput!) { createChannel(input: $input) { channel { id } } }`;
const UPDATE_PROFILE = `mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { user { id } } }`;
const SEND = `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { message { id threadId } } }`;
const ADD_REACTION = `mutation ($input: ReactionInput!) { addReaction(input: $input) { messageId reactions { emoji count me } } }`;
const REMOVE_REACTION = `mutation ($input: ReactionInput!) { removeReaction(input: $input) { reactions { emoji count me } } }`;
const REACTION_USERS = `query ($messageId: ID!, $emoji: String!, $first: Int, $after: ID) {
  reactionUsers(messageId: $messageId, emoji: $emoji, first: $first, after: $after) { userIds hasMore } }`;
const HISTORY = `query ($channelId: ID!, $threadId: ID) { messages(channelId: $channelId, threadId: $threadId) {
  messages { id content threadId reactions { emoji count me } thread { id name messageCount lastMessageAt } } } }`;
const MARK_READ = `mutation ($input: MarkChannelReadInput!) { markChannelRead(input: $input) {
  readState { channelId lastReadMessageId unreadCount mentionCount hasMoreUnread } } }`;
const READ_STATES = `query ($serverId: ID!) { readStates(serverId: $serverId) {
  channelId lastReadMessageId unreadCount mentionCount hasMoreUnread } }`;
const START_THREAD = `mutation ($input: StartThreadInput!) { startThread(input: $input) { thread { id name messageId messageCount } } }`;
const RENAME_THREAD = `mutation ($input: RenameThreadInput!) { renameThread(input: $input) { thread { id name messageCount } } }`;
const THREADS = `query ($channelId: ID!) { threads(channelId: $channelId) { id name messageCount lastMessageAt } }`;

const EVENTS = `subscription { events { seq event {
  __typename
  ... on UserUpdated { user { id bio } }
  ... on MessageCreated { message { id channelId threadId content } }
  ... on ReactionAdded { serverId channelId messageId emoji userId }
  ... on ReactionRemoved { messageId emoji userId }
  ... on ReadStateUpdated { userId serverId channelId lastReadMessageId mentionCount }
  ... on ThreadCreated { serverId channelId thread { id name messageId messageCount } }
  ... on ThreadUpdated { thread { id name messageCount } }
} } }`;

interface StreamEvent {
  __typename: string;
  user?: { id: string; bio: string };
  message?: { id: string; channelId: string; threadId: string | null; content: string };
  thread?: { id: string; name?: string; messageId?: string; messageCount: number };
  serverId?: string;
  channelId?: string;
  messageId?: string;
  emoji?: string;
  userId?: string;
  lastReadMessageId?: string | null;
  mentionCount?: number;
}
interface Envelope {
  events: { seq: string; event: StreamEvent };
}
type User = Awaited<ReturnType<typeof signedInUser>>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const codeOf = (response: GraphqlResponse<unknown>) => response.errors?.[0]?.extensions?.code;

/** Reactions, read states and threads through the gateway and the events stream (MSG-9, MSG-11, MSG-13). */
export function defineMessageExtrasScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;
  const call = async <T>(query: string, variables: Record<string, unknown>, token: string) =>
    dataOf(await graphql<T>(url(), query, variables, token));

  /** An `events` stream of `user` (one connection; a user may open several). */
  async function openStream(user: User) {
    const socket = wsClient(url(), user.accessToken);
    const stream = collect<Envelope>(socket.client, EVENTS);
    const events = () => stream.events.map((e) => e.events.event);
    let sentinels = 0;
    const bioSeen = (bio: string) =>
      events().some((e) => e.__typename === "UserUpdated" && e.user?.bio === bio);
    for (let attempt = 0; ; attempt++) {
      const bio = `warm-${Math.random()}`;
      await call(UPDATE_PROFILE, { input: { bio } }, user.accessToken);
      const deadline = Date.now() + 500;
      while (!bioSeen(bio) && Date.now() < deadline) await sleep(25);
      if (bioSeen(bio)) break;
      if (attempt > 40) throw new Error(`events stream never went live: ${JSON.stringify(stream.errors)}`);
    }
    return {
      events,
      /** Waits until everything routed before now has reached this connection (a profile change of the user). */
      async settle(): Promise<void> {
        sentinels += 1;
        const bio = `sentinel-${sentinels}-${Math.random()}`;
        await call(UPDATE_PROFILE, { input: { bio } }, user.accessToken);
        const deadline = Date.now() + 10_000;
        while (!bioSeen(bio)) {
          if (Date.now() > deadline) throw new Error(`${bio} never arrived`);
          await sleep(25);
        }
      },
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

  /** A public server with its owner and one member, and #general. */
  async function community() {
    const owner = await signedInUser(url());
    const member = await signedInUser(url());
    const { createServer } = await call<{
      createServer: { server: { id: string; channels: Array<{ id: string }> } };
    }>(CREATE_SERVER, { input: { name: "Extras", public: true } }, owner.accessToken);
    await call(JOIN, { input: { serverId: createServer.server.id } }, member.accessToken);
    return { owner, member, serverId: createServer.server.id, general: createServer.server.channels[0]!.id };
  }

  const send = async (token: string, input: Record<string, unknown>) =>
    (
      await call<{ sendMessage: { message: { id: string; threadId: string | null } } }>(
        SEND,
        { input },
        token,
      )
    ).sendMessage.message;

  describe("message extras", () => {
    it("a reaction reaches another member's open events stream as ReactionAdded; history shows counts with `me`", async () => {
      const { owner, member, serverId, general } = await community();
      const memberStream = await openStream(member);
      try {
        const message = await send(owner.accessToken, { channelId: general, content: "react!" });
        const added = await call<{ addReaction: { reactions: unknown[] } }>(
          ADD_REACTION,
          { input: { messageId: message.id, emoji: "👍" } },
          owner.accessToken,
        );
        expect(added.addReaction.reactions).toEqual([{ emoji: "👍", count: 1, me: true }]);
        const event = await memberStream.waitFor(
          (e) => e.__typename === "ReactionAdded" && e.messageId === message.id,
          "ReactionAdded",
        );
        expect(event).toEqual({
          __typename: "ReactionAdded",
          serverId,
          channelId: general,
          messageId: message.id,
          emoji: "👍",
          userId: owner.user.id,
        });
        await call(ADD_REACTION, { input: { messageId: message.id, emoji: "👍" } }, member.accessToken);
        await call(ADD_REACTION, { input: { messageId: message.id, emoji: "👍" } }, member.accessToken);
        const history = await call<{ messages: { messages: Array<{ id: string; reactions: unknown[] }> } }>(
          HISTORY,
          { channelId: general },
          member.accessToken,
        );
        expect(history.messages.messages.find((m) => m.id === message.id)?.reactions).toEqual([
          { emoji: "👍", count: 2, me: true },
        ]);
        const users = await call<{ reactionUsers: { userIds: string[]; hasMore: boolean } }>(
          REACTION_USERS,
          { messageId: message.id, emoji: "👍", first: 1 },
          member.accessToken,
        );
        expect(users.reactionUsers.hasMore).toBe(true);
        expect(users.reactionUsers.userIds).toHaveLength(1);
        const bad = await graphql(
          url(),
          ADD_REACTION,
          { input: { messageId: message.id, emoji: "lol" } },
          member.accessToken,
        );
        expect(codeOf(bad)).toBe("BAD_USER_INPUT");
        await call(REMOVE_REACTION, { input: { messageId: message.id, emoji: "👍" } }, owner.accessToken);
        await memberStream.waitFor(
          (e) =>
            e.__typename === "ReactionRemoved" && e.messageId === message.id && e.userId === owner.user.id,
          "ReactionRemoved",
        );
      } finally {
        await memberStream.close();
      }
    });

    it("markChannelRead reaches the user's second connection as ReadStateUpdated, and no other user", async () => {
      const { owner, member, serverId, general } = await community();
      const other = await call<{ createChannel: { channel: { id: string } } }>(
        CREATE_CHANNEL,
        { input: { serverId, name: "other", type: "TEXT" } },
        owner.accessToken,
      );
      const first = await openStream(member);
      const second = await openStream(member);
      const ownerStream = await openStream(owner);
      try {
        const hello = await send(owner.accessToken, { channelId: general, content: "hello" });
        const mention = await send(owner.accessToken, {
          channelId: general,
          content: `<@${member.user.id}> look`,
        });
        await send(owner.accessToken, {
          channelId: other.createChannel.channel.id,
          content: "@everyone news",
        });
        const states = await call<{ readStates: Array<Record<string, unknown>> }>(
          READ_STATES,
          { serverId },
          member.accessToken,
        );
        expect(states.readStates).toEqual([
          {
            channelId: general,
            lastReadMessageId: null,
            unreadCount: 2,
            mentionCount: 1,
            hasMoreUnread: false,
          },
          {
            channelId: other.createChannel.channel.id,
            lastReadMessageId: null,
            unreadCount: 1,
            mentionCount: 1,
            hasMoreUnread: false,
          },
        ]);
        const marked = await call<{ markChannelRead: { readState: Record<string, unknown> } }>(
          MARK_READ,
          { input: { channelId: general } },
          member.accessToken,
        );
        expect(marked.markChannelRead.readState).toMatchObject({
          lastReadMessageId: mention.id,
          unreadCount: 0,
          mentionCount: 0,
        });
        const event = await second.waitFor(
          (e) => e.__typename === "ReadStateUpdated" && e.channelId === general,
          "ReadStateUpdated on the second connection",
        );
        expect(event).toEqual({
          __typename: "ReadStateUpdated",
          userId: member.user.id,
          serverId,
          channelId: general,
          lastReadMessageId: mention.id,
          mentionCount: 0,
        });
        await first.waitFor(
          (e) => e.__typename === "ReadStateUpdated",
          "ReadStateUpdated on the first connection",
        );
        // The owner's stream has passed the mark (a later event of theirs arrived) without it.
        await ownerStream.settle();
        const ownersReadStates = ownerStream
          .events()
          .filter((e) => e.__typename === "ReadStateUpdated" && e.userId !== owner.user.id);
        expect(ownersReadStates).toEqual([]);
        // A position never moves back.
        const back = await call<{ markChannelRead: { readState: { lastReadMessageId: string } } }>(
          MARK_READ,
          { input: { channelId: general, messageId: hello.id } },
          member.accessToken,
        );
        expect(back.markChannelRead.readState.lastReadMessageId).toBe(mention.id);
      } finally {
        await first.close();
        await second.close();
        await ownerStream.close();
      }
    });

    it("threads: startThread reaches members as ThreadCreated; thread messages carry threadId and stay out of channel history", async () => {
      const { owner, member, general } = await community();
      const memberStream = await openStream(member);
      try {
        const root = await send(owner.accessToken, { channelId: general, content: "thread root" });
        const { startThread } = await call<{ startThread: { thread: { id: string; name: string } } }>(
          START_THREAD,
          { input: { messageId: root.id, name: "Plans" } },
          owner.accessToken,
        );
        const created = await memberStream.waitFor(
          (e) => e.__typename === "ThreadCreated" && e.thread?.id === startThread.thread.id,
          "ThreadCreated",
        );
        expect(created).toMatchObject({
          channelId: general,
          thread: { name: "Plans", messageId: root.id, messageCount: 0 },
        });
        const conflict = await graphql(
          url(),
          START_THREAD,
          { input: { messageId: root.id, name: "x" } },
          member.accessToken,
        );
        expect(codeOf(conflict)).toBe("CONFLICT");
        const reply = await send(member.accessToken, {
          channelId: general,
          threadId: startThread.thread.id,
          content: "in the thread",
        });
        expect(reply.threadId).toBe(startThread.thread.id);
        const createdEvent = await memberStream.waitFor(
          (e) => e.__typename === "MessageCreated" && e.message?.id === reply.id,
          "MessageCreated in the thread",
        );
        expect(createdEvent.message?.threadId).toBe(startThread.thread.id);
        await memberStream.waitFor(
          (e) =>
            e.__typename === "ThreadUpdated" &&
            e.thread?.id === startThread.thread.id &&
            e.thread.messageCount === 1,
          "ThreadUpdated",
        );
        type Page = {
          messages: {
            messages: Array<{
              id: string;
              threadId: string | null;
              thread: { id: string; messageCount: number } | null;
            }>;
          };
        };
        const channelPage = await call<Page>(HISTORY, { channelId: general }, member.accessToken);
        expect(channelPage.messages.messages.map((m) => m.id)).toEqual([root.id]);
        expect(channelPage.messages.messages[0]!.thread).toMatchObject({
          id: startThread.thread.id,
          messageCount: 1,
        });
        const threadPage = await call<Page>(
          HISTORY,
          { channelId: general, threadId: startThread.thread.id },
          member.accessToken,
        );
        expect(threadPage.messages.messages.map((m) => [m.id, m.threadId])).toEqual([
          [reply.id, startThread.thread.id],
        ]);
        const { threads } = await call<{
          threads: Array<{ id: string; messageCount: number; lastMessageAt: string | null }>;
        }>(THREADS, { channelId: general }, member.accessToken);
        expect(threads).toHaveLength(1);
        expect(threads[0]).toMatchObject({ id: startThread.thread.id, messageCount: 1 });
        expect(threads[0]!.lastMessageAt).not.toBeNull();

        // Renaming: the member did not start it and holds no MANAGE_CHANNELS; the owner started it.
        const refused = await graphql(
          url(),
          RENAME_THREAD,
          { input: { threadId: startThread.thread.id, name: "Mine" } },
          member.accessToken,
        );
        expect(codeOf(refused)).toBe("FORBIDDEN");
        const { renameThread } = await call<{
          renameThread: { thread: { name: string; messageCount: number } };
        }>(
          RENAME_THREAD,
          { input: { threadId: startThread.thread.id, name: " Road map " } },
          owner.accessToken,
        );
        expect(renameThread.thread).toEqual({ id: startThread.thread.id, name: "Road map", messageCount: 1 });
        const renamed = await memberStream.waitFor(
          (e) => e.__typename === "ThreadUpdated" && e.thread?.name === "Road map",
          "ThreadUpdated with the new name",
        );
        expect(renamed.thread).toEqual({ id: startThread.thread.id, name: "Road map", messageCount: 1 });
        // In order on the stream: a refused rename would have arrived before this one.
        expect(memberStream.events().some((e) => e.thread?.name === "Mine")).toBe(false);
        const listed = await call<{ threads: Array<{ name: string }> }>(
          THREADS,
          { channelId: general },
          member.accessToken,
        );
        expect(listed.threads.map((t) => t.name)).toEqual(["Road map"]);
      } finally {
        await memberStream.close();
      }
    });
  });
}
