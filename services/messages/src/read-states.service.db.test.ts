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
import { MessagesRepository } from "./messages.repository.ts";
import { ReadStatesRepository, UNREAD_CAP } from "./read-states.repository.ts";
import { SendBatcher } from "./send-batcher.ts";
import { sendBatchExtras } from "./send-extras.ts";
import { ThreadsRepository } from "./threads.repository.ts";

let env: ExtrasEnv;
beforeAll(async () => {
  env = await openExtrasEnv();
}, 60_000);
afterAll(async () => {
  await env?.close();
});

const readEvents = async (userId: string) =>
  (await outboxOf(env, ["read_state.updated"]))
    .filter((e) => e.payload.userId === userId)
    .map((e) => e.payload);

describe("read states", () => {
  it("counts unread and mentions (direct, role, @everyone) per visible channel; own messages never count", async () => {
    const { owner, member, server, channel } = await community(env);
    const other = await env.harness.channels.create(owner, server.id, textChannel("other"));
    const secret = await env.harness.channels.create(owner, server.id, textChannel("secret"));
    await env.harness.channels.setOverwrite(owner, secret.id, {
      targetType: "member",
      targetId: member.userId,
      allow: "0",
      deny: String(PERMISSIONS.VIEW_CHANNEL),
    });
    const role = await env.harness.roles.create(owner, server.id, {
      name: "team",
      color: 0,
      permissions: "0",
    });
    await env.harness.roles.assign(owner, server.id, role.id, member.userId);
    const otherRole = await env.harness.roles.create(owner, server.id, {
      name: "other",
      color: 0,
      permissions: "0",
    });
    await settle();
    await env.messages.send(owner, { channelId: channel, content: "plain" });
    await env.messages.send(owner, { channelId: channel, content: `hey <@${member.userId}>` });
    await env.messages.send(owner, { channelId: channel, content: `team <@&${role.id}>` });
    await env.messages.send(owner, { channelId: channel, content: `not you <@&${otherRole.id}>` });
    await env.messages.send(owner, { channelId: channel, content: "@everyone look" });
    await env.messages.send(member, { channelId: channel, content: `mine <@${member.userId}>` });
    await env.messages.send(owner, { channelId: other.id, content: "@here" });
    await env.messages.send(owner, { channelId: secret.id, content: "@everyone secret" });

    const states = await env.readStates.list(member, server.id);
    // The member's own send marked #general read up to it: only what came after counts (nothing).
    expect(states.map((s) => s.channelId)).toEqual([channel, other.id]);
    expect(states[0]).toMatchObject({ unreadCount: 0, mentionCount: 0 });
    expect(states[1]).toMatchObject({
      lastReadMessageId: null,
      unreadCount: 1,
      mentionCount: 1,
      hasMoreUnread: false,
    });

    // Before the member's send: read from the start.
    await sql`delete from messages.read_states where user_id = ${member.userId}`.execute(env.root);
    const fresh = await env.readStates.list(member, server.id);
    // Own message excluded; the other role's mention is not theirs.
    expect(fresh[0]).toMatchObject({ lastReadMessageId: null, unreadCount: 5, mentionCount: 3 });
    const owners = await env.readStates.list(owner, server.id);
    expect(owners.map((s) => s.channelId)).toEqual([channel, other.id, secret.id]);
    expect(owners[2]).toMatchObject({ unreadCount: 0, mentionCount: 0 });
  });

  it("markChannelRead moves forward only, defaults to the latest, emits read_state.updated to the user only", async () => {
    const { owner, member, server, channel } = await community(env);
    const first = await env.messages.send(owner, { channelId: channel, content: "1" });
    const second = await env.messages.send(owner, { channelId: channel, content: `2 <@${member.userId}>` });
    const third = await env.messages.send(owner, { channelId: channel, content: "3" });
    const atSecond = await env.readStates.markRead(member, channel, second.id);
    expect(atSecond).toMatchObject({
      serverId: server.id,
      channelId: channel,
      lastReadMessageId: second.id,
      unreadCount: 1,
      mentionCount: 0,
    });
    const back = await env.readStates.markRead(member, channel, first.id);
    expect(back.lastReadMessageId).toBe(second.id);
    const latest = await env.readStates.markRead(member, channel);
    expect(latest).toMatchObject({ lastReadMessageId: third.id, unreadCount: 0 });
    expect(await readEvents(member.userId)).toEqual([
      {
        userId: member.userId,
        serverId: server.id,
        channelId: channel,
        lastReadMessageId: second.id,
        mentionCount: 0,
      },
      {
        userId: member.userId,
        serverId: server.id,
        channelId: channel,
        lastReadMessageId: third.id,
        mentionCount: 0,
      },
    ]);
    // Sending marks read for the author (and announces it).
    const mine = await env.messages.send(member, { channelId: channel, content: "reply" });
    expect((await readEvents(member.userId)).at(-1)).toMatchObject({
      lastReadMessageId: mine.id,
      mentionCount: 0,
    });
    expect((await env.readStates.list(member, server.id))[0]!.lastReadMessageId).toBe(mine.id);
  });

  it("refuses what the caller cannot view (NOT_FOUND) and other channels' messages (NOT_FOUND), changing nothing", async () => {
    const { owner, member, server, channel } = await community(env);
    const secret = await env.harness.channels.create(owner, server.id, textChannel("secret"));
    await env.harness.channels.setOverwrite(owner, secret.id, {
      targetType: "role",
      targetId: server.id,
      allow: "0",
      deny: String(PERMISSIONS.VIEW_CHANNEL),
    });
    await settle();
    const hidden = await env.messages.send(owner, { channelId: secret.id, content: "hidden" });
    const outsider = testCaller(env);
    const rowsBefore = await sql`select * from messages.read_states order by user_id, channel_id`.execute(
      env.root,
    );
    const eventsBefore = (await outboxOf(env, ["read_state.updated"])).length;
    for (const who of [outsider, member]) {
      expect(await codeOf(env.readStates.markRead(who, secret.id))).toBe("NOT_FOUND");
      expect(await codeOf(env.readStates.markRead(who, secret.id, hidden.id))).toBe("NOT_FOUND");
    }
    expect(await codeOf(env.readStates.list(outsider, server.id))).toBe("NOT_FOUND");
    // Another channel's message is NOT_FOUND, whether or not the caller could see it.
    expect(await codeOf(env.readStates.markRead(member, channel, hidden.id))).toBe("NOT_FOUND");
    expect(await codeOf(env.readStates.markRead(owner, channel, hidden.id))).toBe("NOT_FOUND");
    expect(await codeOf(env.readStates.markRead(member, channel, "12x"))).toBe("NOT_FOUND");
    const rowsAfter = await sql`select * from messages.read_states order by user_id, channel_id`.execute(
      env.root,
    );
    expect(rowsAfter.rows).toEqual(rowsBefore.rows);
    expect((await outboxOf(env, ["read_state.updated"])).length).toBe(eventsBefore);
  });

  it("a send marks its author's channel read in the batch's transaction, counting later mentions of the same batch", async () => {
    const { owner, member, server, channel } = await community(env);
    await settle();
    // One batch (same turn, queue order): the member's message, then the owner's mention of them.
    const batcher = new SendBatcher(
      {
        db: env.db,
        repo: new MessagesRepository(),
        extras: sendBatchExtras({ readStates: new ReadStatesRepository(), threads: new ThreadsRepository() }),
      },
      { maxBatch: 10, maxInFlight: 1 },
    );
    const pending = (authorId: string, content: string, userIds: string[]) => ({
      serverId: server.id,
      channelId: channel,
      authorId,
      content,
      nonce: null,
      replyToId: null,
      mentions: { userIds, roleIds: [], channelIds: [], everyone: false },
    });
    const [{ row: mine }, { row: theirs }] = await Promise.all([
      batcher.send(pending(member.userId, "mine", [])),
      batcher.send(pending(owner.userId, "hi", [member.userId])),
    ]);
    expect(batcher.stats.batches).toBe(1);
    expect(BigInt(mine.id) < BigInt(theirs.id)).toBe(true);
    expect((await readEvents(member.userId)).at(-1)).toEqual({
      userId: member.userId,
      serverId: server.id,
      channelId: channel,
      lastReadMessageId: mine.id,
      mentionCount: 1,
    });
    expect((await env.readStates.list(member, server.id))[0]).toMatchObject({
      lastReadMessageId: mine.id,
      unreadCount: 1,
      mentionCount: 1,
    });
    // The owner's own (later) message moved the owner's position; nothing of theirs is unread.
    expect((await env.readStates.list(owner, server.id))[0]).toMatchObject({
      lastReadMessageId: theirs.id,
      unreadCount: 0,
    });
  });

  it("caps the unread count at 1000 with hasMoreUnread", async () => {
    const { owner, member, server, channel } = await community(env);
    const base = BigInt((await env.messages.send(owner, { channelId: channel, content: "seed" })).id);
    await sql`
      insert into messages.messages (id, server_id, channel_id, author_id, content)
      select ${base.toString()}::bigint + g, ${server.id}::bigint, ${channel}::bigint, ${owner.userId}::bigint, 'bulk'
      from generate_series(1, ${UNREAD_CAP + 5}) g`.execute(env.root);
    const [state] = await env.readStates.list(member, server.id);
    expect(state).toMatchObject({ unreadCount: UNREAD_CAP, hasMoreUnread: true });
  });
});
