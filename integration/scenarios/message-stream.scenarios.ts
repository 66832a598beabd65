import { describe, expect, it } from "vitest";
import { collect, dataOf, graphql, wsClient } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";
import { TEST_REPLAY_WINDOW_EVENTS } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const VIEW_CHANNEL = 1n << 10n;

const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id channels { id } } } }`;
const JOIN = `mutation ($input: ServerIdInput!) { joinServer(input: $input) { server { id } } }`;
const CREATE_CHANNEL = `mutation ($input: CreateChannelInput!) { createChannel(input: $input) { channel { id } } }`;
const SET_OVERWRITE = `mutation ($input: SetChannelOverwriteInput!) { setChannelOverwrite(input: $input) { channel { id } } }`;
const DELETE_OVERWRITE = `mutation ($input: DeleteChannelOverwriteInput!) { deleteChannelOverwrite(input: $input) { channel { id } } }`;
const KICK = `mutation ($input: KickMemberInput!) { kickMember(input: $input) { userId } }`;
const BAN = `mutation ($input: BanMemberInput!) { banMember(input: $input) { ban { userId } } }`;
const UPDATE_PROFILE = `mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { user { id } } }`;
const SEND = `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { message { id content } } }`;
const EDIT = `mutation ($input: EditMessageInput!) { editMessage(input: $input) { message { id } } }`;
const DELETE = `mutation ($input: MessageIdInput!) { deleteMessage(input: $input) { messageId } }`;
const TYPING = `mutation ($input: StartTypingInput!) { startTyping(input: $input) { expiresAt } }`;
const HISTORY = `query ($channelId: ID!, $before: ID) {
  messages(channelId: $channelId, before: $before, limit: 100) { hasMore messages { id content } } }`;

/** The `events` subscription with every message event, optionally resuming after `since`. */
const EVENTS = (
  since?: string,
) => `subscription { events${since === undefined ? "" : `(since: ${JSON.stringify(since)})`} {
  seq event {
    __typename
    ... on UserUpdated { user { id bio } }
    ... on MessageCreated { message { id channelId authorId content replyToId replyTo { id deleted authorId content } } }
    ... on MessageUpdated { message { id channelId content } }
    ... on MessageDeleted { channelId messageId }
    ... on TypingStarted { channelId userId expiresAt }
    ... on MessagesPurged { serverId channelId userId messageIds }
    ... on MemberLeft { serverId userId leftReason: reason }
    ... on ChannelUpdated { channel { id } }
    ... on ResyncRequired { reason }
  } } }`;

/** What the scenarios read of a stream event. */
interface StreamEvent {
  __typename: string;
  user?: { id: string; bio: string };
  message?: {
    id: string;
    channelId: string;
    authorId?: string;
    content: string;
    replyToId?: string | null;
    replyTo?: { id: string; deleted: boolean; authorId: string | null; content: string | null } | null;
  };
  serverId?: string;
  channelId?: string | null;
  messageId?: string;
  userId?: string;
  expiresAt?: string;
  messageIds?: string[];
  reason?: string;
  leftReason?: string;
  channel?: { id: string };
}
interface Envelope {
  events: { seq: string; event: StreamEvent };
}

/** Test-deployment replay window (harness/topology.ts STREAM_LIMIT_ENV). */
const REPLAY_WINDOW_EVENTS = TEST_REPLAY_WINDOW_EVENTS;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Member {
  userId: string;
  token: string;
}

/** The channel an event is about, if it is a message event. */
const channelOf = (e: StreamEvent): string | undefined => e.message?.channelId ?? e.channelId ?? undefined;

/**
 * Messages on the real-time stream (issue 5 "Done when"): database order for every subscriber on both
 * gateway nodes, resume under traffic, no leak to members who may not view a channel (also on open
 * subscriptions and on replay), purges, replies and typing.
 */
export function defineMessageStreamScenarios(topology: () => Topology): void {
  const a = () => topology().gatewayUrl;
  const b = () => topology().secondGatewayUrl;
  const call = async <T>(query: string, input: Record<string, unknown>, token: string, url = a()) =>
    dataOf(await graphql<T>(url, query, { input }, token));

  const newMember = async (): Promise<Member> => {
    const user = await signedInUser(a());
    return { userId: user.user.id, token: user.accessToken };
  };

  /** A public server owned by `owner` that every one of `members` joined; returns it and its first channel. */
  async function community(owner: Member, members: Member[]) {
    const { createServer } = await call<{
      createServer: { server: { id: string; channels: { id: string }[] } };
    }>(CREATE_SERVER, { name: "Stream lab", public: true }, owner.token);
    const serverId = createServer.server.id;
    await Promise.all(members.map((m) => call(JOIN, { serverId }, m.token)));
    return { serverId, general: createServer.server.channels[0]!.id };
  }

  const createChannel = async (owner: Member, serverId: string, name: string) =>
    (
      await call<{ createChannel: { channel: { id: string } } }>(
        CREATE_CHANNEL,
        { serverId, name, type: "TEXT" },
        owner.token,
      )
    ).createChannel.channel.id;

  const send = async (
    who: Member,
    channelId: string,
    content: string,
    extra: Record<string, unknown> = {},
    url = a(),
  ) =>
    (
      await call<{ sendMessage: { message: { id: string; content: string } } }>(
        SEND,
        { channelId, content, ...extra },
        who.token,
        url,
      )
    ).sendMessage.message;

  /** The channel's whole history, oldest first (the database order). */
  async function history(who: Member, channelId: string): Promise<{ id: string; content: string }[]> {
    const all: { id: string; content: string }[] = [];
    let before: string | undefined;
    for (;;) {
      const page = dataOf(
        await graphql<{ messages: { hasMore: boolean; messages: { id: string; content: string }[] } }>(
          a(),
          HISTORY,
          { channelId, before },
          who.token,
        ),
      ).messages;
      all.push(...page.messages);
      if (!page.hasMore || page.messages.length === 0) return all.reverse();
      before = page.messages.at(-1)!.id;
    }
  }

  /**
   * An `events` stream of `who` on `url`. Without `since` it waits until the stream is live (a profile
   * change of theirs came through); with `since` it resumes (replay, or ResyncRequired).
   */
  async function openStream(who: Member, url: string, since?: string) {
    const socket = wsClient(url, who.token);
    const stream = collect<Envelope>(socket.client, EVENTS(since));
    let sentinels = 0;
    const envelopes = () => stream.events.map((e) => e.events);
    const events = () => envelopes().map((e) => e.event);
    if (since === undefined) {
      for (let attempt = 0; stream.events.length === 0; attempt++) {
        if (attempt === 40)
          throw new Error(`events stream never went live: ${JSON.stringify(stream.errors)}`);
        await call(UPDATE_PROFILE, { bio: `warm-${attempt}` }, who.token);
        const deadline = Date.now() + 400;
        while (stream.events.length === 0 && Date.now() < deadline) await sleep(20);
      }
    }
    const waitFor = async (match: (e: StreamEvent) => boolean, what: string, ms = 15_000) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = events().find(match);
        if (found) return found;
        if (Date.now() > deadline)
          throw new Error(
            `${what} never arrived (${stream.events.length} events, ${JSON.stringify(stream.errors)})`,
          );
        await sleep(20);
      }
    };
    return {
      envelopes,
      events,
      errors: stream.errors,
      /** Ids of the MessageCreated events of a channel, in arrival order. */
      created: (channelId: string) =>
        events()
          .filter((e) => e.__typename === "MessageCreated" && e.message?.channelId === channelId)
          .map((e) => e.message!.id),
      /** Every message event about a channel (created, updated, deleted, typing, purged). */
      about: (channelId: string) => events().filter((e) => channelOf(e) === channelId),
      waitFor,
      waitForMessage: (id: string) =>
        waitFor((e) => e.__typename === "MessageCreated" && e.message?.id === id, `message ${id}`),
      /** Waits until a profile change made now arrives: everything routed before it was delivered. */
      async settle() {
        sentinels += 1;
        const bio = `settle-${sentinels}`;
        await call(UPDATE_PROFILE, { bio }, who.token);
        await waitFor((e) => e.__typename === "UserUpdated" && e.user?.bio === bio, bio);
      },
      lastSeq: () => stream.events.at(-1)!.events.seq,
      async close() {
        stream.dispose();
        await socket.client.dispose();
      },
    };
  }
  type Stream = Awaited<ReturnType<typeof openStream>>;

  /** Every seq of a stream appears once (no duplicate delivery). */
  const expectNoDuplicateSeq = (stream: Stream) => {
    const durable = stream.envelopes().filter((e) => e.event.__typename !== "TypingStarted");
    expect(new Set(durable.map((e) => e.seq)).size).toBe(durable.length);
  };

  describe("messages on the real-time stream", () => {
    it("6 concurrent senders through both gateways: 4 subscribers on both nodes see exactly the database order", async () => {
      const owner = await newMember();
      const senders = await Promise.all(Array.from({ length: 6 }, newMember));
      const watchers = await Promise.all(Array.from({ length: 4 }, newMember));
      const { general } = await community(owner, [...senders, ...watchers]);
      const streams = await Promise.all(watchers.map((w, i) => openStream(w, i % 2 === 0 ? a() : b())));
      const perSender = 25;
      try {
        await Promise.all(
          senders.map(async (sender, i) => {
            for (let k = 0; k < perSender; k++) {
              await send(
                sender,
                general,
                `s${i}-${k}`,
                { nonce: `order-${i}-${k}` },
                i % 2 === 0 ? a() : b(),
              );
            }
          }),
        );
        const stored = await history(owner, general);
        expect(stored).toHaveLength(senders.length * perSender);
        // Each sender's messages are stored in the order sent.
        for (let i = 0; i < senders.length; i++) {
          expect(stored.filter((m) => m.content.startsWith(`s${i}-`)).map((m) => m.content)).toEqual(
            Array.from({ length: perSender }, (_, k) => `s${i}-${k}`),
          );
        }
        const ids = stored.map((m) => m.id);
        for (const stream of streams) {
          await stream.waitForMessage(ids.at(-1)!);
          await stream.settle();
          expect(stream.errors).toEqual([]);
          expect(stream.created(general)).toEqual(ids);
          expectNoDuplicateSeq(stream);
        }
      } finally {
        await Promise.all(streams.map((s) => s.close()));
      }
    }, 120_000);

    it("subscribers dropped for seconds during traffic resume on the same or the other node: 0 missed, 0 reordered, 0 duplicated", async () => {
      const owner = await newMember();
      const senders = await Promise.all(Array.from({ length: 5 }, newMember));
      const watchers = await Promise.all(Array.from({ length: 3 }, newMember));
      const { general } = await community(owner, [...senders, ...watchers]);
      const nodes = [a(), b(), a()];
      const resumeNodes = [a(), a(), b()]; // same node, other node, other node
      const first = await Promise.all(watchers.map((w, i) => openStream(w, nodes[i]!)));
      let sending = true;
      let sent = 0;
      const traffic = Promise.all(
        senders.map(async (sender, i) => {
          for (let k = 0; sending; k++) {
            await send(sender, general, `r${i}-${k}`, { nonce: `resume-${i}-${k}` }, i % 2 === 0 ? a() : b());
            sent += 1;
            await sleep(100);
          }
        }),
      );
      const second: Stream[] = [];
      try {
        for (const stream of first)
          await stream.waitFor(() => stream.created(general).length >= 5, "5 messages");
        await Promise.all(first.map((s) => s.close()));
        const seqs = first.map((s) => s.lastSeq());
        const sentAtDrop = sent;
        await sleep(2_500);
        const missedWhileAway = sent - sentAtDrop;
        second.push(...(await Promise.all(watchers.map((w, i) => openStream(w, resumeNodes[i]!, seqs[i])))));
        await sleep(1_500);
        sending = false;
        await traffic;
        const ids = (await history(owner, general)).map((m) => m.id);
        expect(missedWhileAway).toBeGreaterThan(20);
        if (process.env.BEEP_IT_FIGURES) {
          console.info(
            `resume: ${ids.length} messages, ${missedWhileAway} sent while 3 subscribers were away`,
          );
        }
        for (const [i, stream] of second.entries()) {
          await stream.waitForMessage(ids.at(-1)!);
          expect(stream.errors).toEqual([]);
          expect(stream.events().filter((e) => e.__typename === "ResyncRequired")).toEqual([]);
          expect([...first[i]!.created(general), ...stream.created(general)]).toEqual(ids);
          const seen = [...first[i]!.envelopes(), ...stream.envelopes()].map((e) => e.seq);
          expect(new Set(seen).size).toBe(seen.length);
        }
      } finally {
        sending = false;
        await traffic;
        await Promise.all([...first, ...second].map((s) => s.close()));
      }
    }, 120_000);

    it("a since beyond the replay window under message traffic starts with ResyncRequired, then live messages", async () => {
      const owner = await newMember();
      const watcher = await newMember();
      const { general } = await community(owner, [watcher]);
      const first = await openStream(watcher, b());
      await first.close();
      const oldSeq = first.lastSeq();
      for (let batch = 0; batch * 20 <= REPLAY_WINDOW_EVENTS + 10; batch++) {
        await Promise.all(Array.from({ length: 20 }, (_, i) => send(owner, general, `fill-${batch}-${i}`)));
      }
      const resumed = await openStream(watcher, b(), oldSeq);
      try {
        await resumed.waitFor(() => true, "the first event");
        expect(resumed.events()[0]).toEqual({ __typename: "ResyncRequired", reason: "WINDOW_EXCEEDED" });
        const live = await send(owner, general, "after resync", {}, a());
        await resumed.waitForMessage(live.id);
        expect(resumed.created(general).filter((id) => id !== live.id).length).toBeLessThan(40);
      } finally {
        await resumed.close();
      }
    }, 120_000);

    it("a member without VIEW_CHANNEL never receives a private channel's created, updated, deleted or typing events", async () => {
      const owner = await newMember();
      const member = await newMember();
      const { serverId, general } = await community(owner, [member]);
      const secret = await createChannel(owner, serverId, "secret");
      await call(
        SET_OVERWRITE,
        { channelId: secret, targetType: "MEMBER", targetId: member.userId, deny: String(VIEW_CHANNEL) },
        owner.token,
      );
      const [ownerStream, memberStream] = await Promise.all([
        openStream(owner, a()),
        openStream(member, b()),
      ]);
      try {
        const hidden = await send(owner, secret, "hidden", {}, b());
        await call(EDIT, { messageId: hidden.id, content: "hidden, edited" }, owner.token);
        await call(TYPING, { channelId: secret }, owner.token, b());
        await call(DELETE, { messageId: hidden.id }, owner.token);
        for (const typename of ["MessageCreated", "MessageUpdated", "TypingStarted", "MessageDeleted"]) {
          await ownerStream.waitFor(
            (e) => e.__typename === typename && channelOf(e) === secret,
            `${typename} for the owner`,
          );
        }
        const visible = await send(owner, general, "visible");
        await memberStream.waitForMessage(visible.id);
        await memberStream.settle();
        expect(memberStream.about(secret)).toEqual([]);
        expect(memberStream.created(general)).toEqual([visible.id]);
      } finally {
        await ownerStream.close();
        await memberStream.close();
      }
    });

    it("on an open subscription, an overwrite denying VIEW_CHANNEL stops the channel's messages at once; the owner still gets them", async () => {
      const owner = await newMember();
      const member = await newMember();
      const { serverId, general } = await community(owner, [member]);
      const room = await createChannel(owner, serverId, "room");
      const [ownerStream, memberStream] = await Promise.all([
        openStream(owner, a()),
        openStream(member, b()),
      ]);
      try {
        const before = await send(owner, room, "before");
        await memberStream.waitForMessage(before.id);
        await call(
          SET_OVERWRITE,
          { channelId: room, targetType: "MEMBER", targetId: member.userId, deny: String(VIEW_CHANNEL) },
          owner.token,
        );
        const after = await send(owner, room, "after", {}, b());
        await call(EDIT, { messageId: before.id, content: "before, edited" }, owner.token);
        await call(DELETE, { messageId: before.id }, owner.token);
        await ownerStream.waitForMessage(after.id);
        await ownerStream.waitFor(
          (e) => e.__typename === "MessageDeleted" && e.messageId === before.id,
          "delete",
        );
        const sentinel = await send(owner, general, "sentinel");
        await memberStream.waitForMessage(sentinel.id);
        await memberStream.settle();
        expect(memberStream.about(room).map((e) => e.__typename)).toEqual(["MessageCreated"]);
        expect(memberStream.created(room)).toEqual([before.id]);
      } finally {
        await ownerStream.close();
        await memberStream.close();
      }
    });

    it("a kicked member's open stream gets nothing of the server after MemberLeft", async () => {
      const owner = await newMember();
      const member = await newMember();
      const { serverId, general } = await community(owner, [member]);
      const [ownerStream, memberStream] = await Promise.all([
        openStream(owner, a()),
        openStream(member, b()),
      ]);
      try {
        const before = await send(owner, general, "before the kick");
        await memberStream.waitForMessage(before.id);
        await call(KICK, { serverId, userId: member.userId }, owner.token);
        await memberStream.waitFor(
          (e) => e.__typename === "MemberLeft" && e.userId === member.userId,
          "MemberLeft",
        );
        const after = await send(owner, general, "after the kick", {}, b());
        await call(EDIT, { messageId: before.id, content: "edited after the kick" }, owner.token);
        await call(TYPING, { channelId: general }, owner.token);
        await ownerStream.waitForMessage(after.id);
        await ownerStream.waitFor(
          (e) => e.__typename === "TypingStarted" && e.channelId === general,
          "typing",
        );
        await memberStream.settle();
        const events = memberStream.events();
        const left = events.findIndex((e) => e.__typename === "MemberLeft" && e.userId === member.userId);
        expect(events.slice(left + 1).filter((e) => e.__typename !== "UserUpdated")).toEqual([]);
      } finally {
        await ownerStream.close();
        await memberStream.close();
      }
    });

    it("on resume, a member who gained VIEW_CHANNEL while away is not handed the channel's earlier messages", async () => {
      const owner = await newMember();
      const member = await newMember();
      const { serverId, general } = await community(owner, [member]);
      const secret = await createChannel(owner, serverId, "secret");
      await call(
        SET_OVERWRITE,
        { channelId: secret, targetType: "MEMBER", targetId: member.userId, deny: String(VIEW_CHANNEL) },
        owner.token,
      );
      // The owner's stream on the node the member resumes on: it tells when that node has an event.
      const watcher = await openStream(owner, a());
      const first = await openStream(member, b());
      await first.close();
      const since = first.lastSeq();
      const hidden = await send(owner, secret, "said while hidden");
      await call(
        DELETE_OVERWRITE,
        { channelId: secret, targetType: "MEMBER", targetId: member.userId },
        owner.token,
      );
      const shown = await send(owner, secret, "said once visible");
      // Sent before the resume, so not live: wait until its event reached the node (a send is acknowledged at
      // commit, its event is relayed after; a resume racing it would get it live, which is correct).
      try {
        await watcher.waitForMessage(shown.id);
      } finally {
        await watcher.close();
      }
      const resumed = await openStream(member, a(), since);
      try {
        // Live events follow the stream's first event (a resync covers everything before it).
        await resumed.waitFor(() => true, "the first event");
        const probe = await send(owner, general, "probe");
        await resumed.waitForMessage(probe.id);
        expect(resumed.created(secret)).not.toContain(hidden.id);
        // Visibility changed during the gap: the client is told to refetch what it may see now, then live
        // events follow (a replay under today's visibility would hand over what was hidden then).
        expect(resumed.events()[0]).toEqual({ __typename: "ResyncRequired", reason: "VISIBILITY_CHANGED" });
        expect(resumed.created(secret)).not.toContain(shown.id);
        expect(resumed.created(general)).toEqual([probe.id]);
      } finally {
        await resumed.close();
      }
    });

    it("on resume, a member removed while away gets ResyncRequired rather than a silent gap", async () => {
      const owner = await newMember();
      const member = await newMember();
      const { serverId, general } = await community(owner, [member]);
      const first = await openStream(member, a());
      await first.close();
      const since = first.lastSeq();
      await send(owner, general, "said before the kick");
      await call(KICK, { serverId, userId: member.userId }, owner.token);
      const resumed = await openStream(member, b(), since);
      try {
        // First, or (when this node had not processed the kick yet as the stream opened) right after the
        // kick's MemberLeft arrives.
        await resumed.waitFor((e) => e.__typename === "ResyncRequired", "ResyncRequired");
        await call(UPDATE_PROFILE, { bio: "probe" }, member.token);
        await resumed.waitFor((e) => e.user?.bio === "probe", "probe");
        const events = resumed.events().filter((e) => e.__typename !== "UserUpdated");
        expect([
          [{ __typename: "ResyncRequired", reason: "VISIBILITY_CHANGED" }],
          [
            { __typename: "ResyncRequired", reason: "VISIBILITY_CHANGED" },
            { __typename: "MemberLeft", serverId, userId: member.userId, leftReason: "KICK" },
          ],
        ]).toContainEqual(events);
      } finally {
        await resumed.close();
      }
    });

    it("a ban that deletes recent messages reaches open clients as MessagesPurged, only in channels they may view", async () => {
      const owner = await newMember();
      const watcher = await newMember();
      const spammer = await newMember();
      const { serverId, general } = await community(owner, [watcher, spammer]);
      const secret = await createChannel(owner, serverId, "secret");
      await call(
        SET_OVERWRITE,
        { channelId: secret, targetType: "MEMBER", targetId: watcher.userId, deny: String(VIEW_CHANNEL) },
        owner.token,
      );
      const [ownerStream, watcherStream] = await Promise.all([
        openStream(owner, b()),
        openStream(watcher, a()),
      ]);
      try {
        const spam = [await send(spammer, general, "spam 1"), await send(spammer, general, "spam 2")];
        const hiddenSpam = await send(spammer, secret, "hidden spam");
        const kept = await send(owner, general, "stays");
        await call(BAN, { serverId, userId: spammer.userId, deleteMessageSeconds: 3600 }, owner.token);
        const purged = await watcherStream.waitFor(
          (e) => e.__typename === "MessagesPurged",
          "MessagesPurged",
        );
        expect(purged).toEqual({
          __typename: "MessagesPurged",
          serverId,
          channelId: general,
          userId: spammer.userId,
          messageIds: spam.map((m) => m.id),
        });
        const ownerPurges = async () => ownerStream.events().filter((e) => e.__typename === "MessagesPurged");
        await ownerStream.waitFor(
          (e) => e.__typename === "MessagesPurged" && e.channelId === secret,
          "secret purge",
        );
        expect((await ownerPurges()).map((e) => [e.channelId, e.messageIds]).sort()).toEqual(
          [
            [general, spam.map((m) => m.id)],
            [secret, [hiddenSpam.id]],
          ].sort(),
        );
        await watcherStream.settle();
        expect(watcherStream.events().filter((e) => e.__typename === "MessagesPurged")).toHaveLength(1);
        expect(watcherStream.about(secret)).toEqual([]);
        expect((await history(owner, general)).map((m) => m.id)).toEqual([kept.id]);
      } finally {
        await ownerStream.close();
        await watcherStream.close();
      }
    });

    it("a reply's MessageCreated carries its reply reference; typing reaches viewers with an expiry", async () => {
      const owner = await newMember();
      const member = await newMember();
      const { general } = await community(owner, [member]);
      const memberStream = await openStream(member, b());
      try {
        const original = await send(owner, general, "original");
        const reply = await send(owner, general, "a reply", { replyToId: original.id }, b());
        const created = await memberStream.waitForMessage(reply.id);
        expect(created.message).toMatchObject({
          replyToId: original.id,
          replyTo: { id: original.id, deleted: false, authorId: owner.userId, content: "original" },
        });
        const { startTyping } = await call<{ startTyping: { expiresAt: string } }>(
          TYPING,
          { channelId: general },
          owner.token,
        );
        const typing = await memberStream.waitFor((e) => e.__typename === "TypingStarted", "TypingStarted");
        expect(typing).toEqual({
          __typename: "TypingStarted",
          channelId: general,
          userId: owner.userId,
          expiresAt: startTyping.expiresAt,
        });
        const ttl = Date.parse(startTyping.expiresAt) - Date.now();
        expect(ttl).toBeGreaterThan(5_000);
        expect(ttl).toBeLessThanOrEqual(10_000);
        // A repeated startTyping within the window broadcasts nothing more (expiry unchanged).
        const again = await call<{ startTyping: { expiresAt: string } }>(
          TYPING,
          { channelId: general },
          owner.token,
        );
        expect(again.startTyping.expiresAt).toBe(startTyping.expiresAt);
        await memberStream.settle();
        expect(memberStream.events().filter((e) => e.__typename === "TypingStarted")).toHaveLength(1);
      } finally {
        await memberStream.close();
      }
    });
  });
}
