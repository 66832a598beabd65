import { PERMISSIONS } from "@beep/servers/permissions";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  codeOf,
  community,
  type ExtrasEnv,
  openExtrasEnv,
  outboxOf,
  settle,
  testCaller,
  textChannel,
} from "./message-extras.test-env.ts";
import { MAX_EMOJI_PER_MESSAGE } from "./reactions.service.ts";

let env: ExtrasEnv;
beforeAll(async () => {
  env = await openExtrasEnv();
}, 60_000);
afterAll(async () => {
  await env?.close();
});

async function rowsOf(messageId: string) {
  const result = await sql<{ emoji: string; user_id: string }>`
    select emoji, user_id::text from messages.reactions where message_id = ${messageId} order by emoji, user_id`.execute(
    env.root,
  );
  return result.rows;
}

const reactionEvents = async (messageId: string) =>
  (await outboxOf(env, ["reaction.added", "reaction.removed"])).filter(
    (e) => e.payload.messageId === messageId,
  );

describe("reactions", () => {
  it("adds and removes idempotently, counts per emoji with `me`, and emits one event per change", async () => {
    const { owner, member, server, channel } = await community(env);
    const message = await env.messages.send(owner, { channelId: channel, content: "react to me" });
    expect(await env.reactions.add(member.userId, message.id, "👍")).toEqual([
      { emoji: "👍", count: 1, me: true },
    ]);
    await env.reactions.add(member.userId, message.id, "👍");
    await env.reactions.add(owner.userId, message.id, "👍");
    const list = await env.reactions.add(owner.userId, message.id, "❤️");
    expect(list).toEqual([
      { emoji: "👍", count: 2, me: true },
      { emoji: "❤️", count: 1, me: true },
    ]);
    const summaries = await env.reactions.summaries(member.userId, [message.id]);
    expect(summaries.get(message.id)).toEqual([
      { emoji: "👍", count: 2, me: true },
      { emoji: "❤️", count: 1, me: false },
    ]);
    await env.reactions.remove(member.userId, message.id, "👍");
    await env.reactions.remove(member.userId, message.id, "👍");
    expect(await rowsOf(message.id)).toHaveLength(2);
    const events = await reactionEvents(message.id);
    expect(events.map((e) => [e.type, e.payload.emoji, e.payload.userId])).toEqual([
      ["reaction.added", "👍", member.userId],
      ["reaction.added", "👍", owner.userId],
      ["reaction.added", "❤️", owner.userId],
      ["reaction.removed", "👍", member.userId],
    ]);
    expect(events[0]!.payload).toEqual({
      serverId: server.id,
      channelId: channel,
      messageId: message.id,
      emoji: "👍",
      userId: member.userId,
    });
  });

  it("refuses text and several emoji with BAD_USER_INPUT, changing nothing", async () => {
    const { owner, member, channel } = await community(env);
    const message = await env.messages.send(owner, { channelId: channel, content: "x" });
    for (const emoji of ["a", "👍👍", "hello", "", "1"]) {
      expect(await codeOf(env.reactions.add(member.userId, message.id, emoji))).toBe("BAD_USER_INPUT");
    }
    expect(await rowsOf(message.id)).toEqual([]);
    expect(await reactionEvents(message.id)).toEqual([]);
  });

  it("a new emoji needs ADD_REACTIONS, an existing one does not; outsiders and members without VIEW_CHANNEL get NOT_FOUND", async () => {
    const { owner, member, server, channel } = await community(env);
    const message = await env.messages.send(owner, { channelId: channel, content: "x" });
    await env.reactions.add(owner.userId, message.id, "🎉");
    await env.harness.channels.setOverwrite(owner, channel, {
      targetType: "member",
      targetId: member.userId,
      allow: "0",
      deny: String(PERMISSIONS.ADD_REACTIONS),
    });
    await settle();
    expect(await codeOf(env.reactions.add(member.userId, message.id, "👀"))).toBe("FORBIDDEN");
    await env.reactions.add(member.userId, message.id, "🎉");
    expect((await env.reactions.summaries(member.userId, [message.id])).get(message.id)).toEqual([
      { emoji: "🎉", count: 2, me: true },
    ]);

    const secret = await env.harness.channels.create(owner, server.id, textChannel("secret"));
    await env.harness.channels.setOverwrite(owner, secret.id, {
      targetType: "role",
      targetId: server.id,
      allow: "0",
      deny: String(PERMISSIONS.VIEW_CHANNEL),
    });
    await settle();
    const hidden = await env.messages.send(owner, { channelId: secret.id, content: "hidden" });
    await env.reactions.add(owner.userId, hidden.id, "🔒");
    const before = await rowsOf(hidden.id);
    const eventsBefore = await reactionEvents(hidden.id);
    for (const who of [testCaller(env), member]) {
      expect(await codeOf(env.reactions.add(who.userId, hidden.id, "🔒"))).toBe("NOT_FOUND");
      expect(await codeOf(env.reactions.add(who.userId, hidden.id, "👍"))).toBe("NOT_FOUND");
      expect(await codeOf(env.reactions.remove(who.userId, hidden.id, "🔒"))).toBe("NOT_FOUND");
      expect(await codeOf(env.reactions.users(who.userId, { messageId: hidden.id, emoji: "🔒" }))).toBe(
        "NOT_FOUND",
      );
      // A batch read leaves out what the caller cannot read.
      expect((await env.reactions.summaries(who.userId, [hidden.id, message.id])).has(hidden.id)).toBe(false);
    }
    expect(await rowsOf(hidden.id)).toEqual(before);
    expect(await reactionEvents(hidden.id)).toEqual(eventsBefore);
  });

  it("holds at most 20 distinct emoji, also under concurrent adds", async () => {
    const { owner, channel } = await community(env);
    const message = await env.messages.send(owner, { channelId: channel, content: "many" });
    const emoji = [..."😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙😚🙂🤗🤩🤔🤨😐"];
    const results = await Promise.allSettled(
      emoji.map((e) => env.reactions.add(owner.userId, message.id, e)),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(MAX_EMOJI_PER_MESSAGE);
    const refused = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    expect(refused.map((r) => (r.reason as { code: string }).code)).toEqual([
      "LIMIT_EXCEEDED",
      "LIMIT_EXCEEDED",
      "LIMIT_EXCEEDED",
      "LIMIT_EXCEEDED",
    ]);
    expect(new Set((await rowsOf(message.id)).map((r) => r.emoji)).size).toBe(MAX_EMOJI_PER_MESSAGE);
    // A present emoji may still be joined.
    const other = testCaller(env);
    expect(await codeOf(env.reactions.add(owner.userId, message.id, emoji[0]!))).toBeUndefined();
    expect(other.userId).not.toBe(owner.userId);
  });

  it("pages reactionUsers by user id, and a deleted message takes its reactions along", async () => {
    const { owner, server, channel } = await community(env);
    const message = await env.messages.send(owner, { channelId: channel, content: "vote" });
    const voters = [owner];
    for (let i = 0; i < 4; i += 1) {
      const voter = testCaller(env);
      await env.harness.servers.join(voter, server.id);
      voters.push(voter);
    }
    await settle();
    for (const voter of voters) await env.reactions.add(voter.userId, message.id, "✅");
    const sorted = voters.map((v) => v.userId).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    const first = await env.reactions.users(owner.userId, { messageId: message.id, emoji: "✅", first: 2 });
    expect(first).toEqual({ userIds: sorted.slice(0, 2), hasMore: true });
    const rest = await env.reactions.users(owner.userId, {
      messageId: message.id,
      emoji: "✅",
      first: 10,
      after: first.userIds[1]!,
    });
    expect(rest).toEqual({ userIds: sorted.slice(2), hasMore: false });
    expect(
      await codeOf(env.reactions.users(owner.userId, { messageId: message.id, emoji: "✅", first: 101 })),
    ).toBe("BAD_USER_INPUT");
    await env.messages.delete(owner, message.id);
    expect(await rowsOf(message.id)).toEqual([]);
  });
});
