import { newId } from "@beep/ids";
import { PERMISSIONS } from "@beep/servers/permissions";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyCleanup } from "./cleanup.consumers.ts";
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

let env: ExtrasEnv;
beforeAll(async () => {
  env = await openExtrasEnv();
}, 60_000);
afterAll(async () => {
  await env?.close();
});

const threadRows = async (channelId: string) =>
  (await sql`select * from messages.threads where channel_id = ${channelId} order by id`.execute(env.root))
    .rows;

describe("threads", () => {
  it("starts one thread per message; thread messages stay out of channel history and count in the thread", async () => {
    const { owner, member, server, channel } = await community(env);
    const root = await env.messages.send(owner, { channelId: channel, content: "discuss here" });
    const thread = await env.threads.start(member.userId, root.id, "  Discussion  ");
    expect(thread).toMatchObject({
      serverId: server.id,
      channelId: channel,
      messageId: root.id,
      name: "Discussion",
      creatorId: member.userId,
      messageCount: 0,
      lastMessageAt: null,
    });
    expect(await codeOf(env.threads.start(owner.userId, root.id, "again"))).toBe("CONFLICT");
    expect(await codeOf(env.threads.start(owner.userId, root.id, " "))).toBe("BAD_USER_INPUT");
    const inThread = await env.messages.send(member, {
      channelId: channel,
      threadId: thread.id,
      content: "first",
    });
    expect(inThread.threadId).toBe(thread.id);
    await env.messages.send(owner, { channelId: channel, threadId: thread.id, content: "second" });
    const after = await env.messages.send(owner, { channelId: channel, content: "channel again" });
    expect((await env.messages.list(owner, channel, {})).messages.map((m) => m.id)).toEqual([
      after.id,
      root.id,
    ]);
    const threadPage = await env.messages.list(owner, channel, { threadId: thread.id });
    expect(threadPage.messages.map((m) => m.content)).toEqual(["second", "first"]);
    // A thread message cannot start a thread of its own.
    expect(await codeOf(env.threads.start(owner.userId, inThread.id, "nested"))).toBe("BAD_USER_INPUT");
    const [listed] = await env.threads.list(member.userId, channel);
    expect(listed).toMatchObject({ id: thread.id, messageCount: 2 });
    expect(listed!.lastMessageAt).not.toBeNull();
    expect((await env.threads.ofMessages(member.userId, [root.id, after.id])).map((t) => t.id)).toEqual([
      thread.id,
    ]);
    // Events: created once, then updated per message; message.created carries the thread id.
    const events = (await outboxOf(env, ["thread.created", "thread.updated"])).filter(
      (e) => (e.payload.thread as { id: string }).id === thread.id,
    );
    expect(events.map((e) => [e.type, (e.payload.thread as { messageCount: number }).messageCount])).toEqual([
      ["thread.created", 0],
      ["thread.updated", 1],
      ["thread.updated", 2],
    ]);
    const created = (await outboxOf(env, ["message.created"])).find(
      (e) => (e.payload.message as { id: string }).id === inThread.id,
    );
    expect((created!.payload.message as { threadId: string }).threadId).toBe(thread.id);
    // A thread of another channel is NOT_FOUND on threadId.
    const other = await env.harness.channels.create(owner, server.id, textChannel("other"));
    await settle();
    expect(
      await codeOf(env.messages.send(owner, { channelId: other.id, threadId: thread.id, content: "x" })),
    ).toBe("NOT_FOUND");
    expect(await codeOf(env.messages.list(owner, other.id, { threadId: thread.id }))).toBe("NOT_FOUND");
  });

  it("inherits the parent channel's permissions: no VIEW_CHANNEL, no thread; sending needs SEND_MESSAGES_IN_THREADS", async () => {
    const { owner, member, server, channel } = await community(env);
    const secret = await env.harness.channels.create(owner, server.id, textChannel("secret"));
    await env.harness.channels.setOverwrite(owner, secret.id, {
      targetType: "member",
      targetId: member.userId,
      allow: "0",
      deny: String(PERMISSIONS.VIEW_CHANNEL),
    });
    await settle();
    const root = await env.messages.send(owner, { channelId: secret.id, content: "secret root" });
    const thread = await env.threads.start(owner.userId, root.id, "secret thread");
    await env.messages.send(owner, { channelId: secret.id, threadId: thread.id, content: "secret reply" });
    const before = {
      threads: await threadRows(secret.id),
      events: (await outboxOf(env, ["thread.created"])).length,
    };
    const countBefore = (await env.messages.list(owner, secret.id, { threadId: thread.id })).messages.length;
    for (const who of [member, testCaller(env)]) {
      expect(await codeOf(env.messages.list(who, secret.id, { threadId: thread.id }))).toBe("NOT_FOUND");
      expect(
        await codeOf(env.messages.send(who, { channelId: secret.id, threadId: thread.id, content: "in" })),
      ).toBe("NOT_FOUND");
      expect(await codeOf(env.threads.list(who.userId, secret.id))).toBe("NOT_FOUND");
      expect(await codeOf(env.threads.start(who.userId, root.id, "mine"))).toBe("NOT_FOUND");
      expect(await codeOf(env.threads.rename(who.userId, thread.id, "mine"))).toBe("NOT_FOUND");
      expect(await env.threads.ofMessages(who.userId, [root.id])).toEqual([]);
    }
    expect(await threadRows(secret.id)).toEqual(before.threads);
    expect((await outboxOf(env, ["thread.created"])).length).toBe(before.events);
    expect((await env.messages.list(owner, secret.id, { threadId: thread.id })).messages).toHaveLength(
      countBefore,
    );

    // In #general: denied SEND_MESSAGES_IN_THREADS and CREATE_PUBLIC_THREADS, the member still sends to the channel.
    const root2 = await env.messages.send(owner, { channelId: channel, content: "open" });
    const open = await env.threads.start(owner.userId, root2.id, "open thread");
    await env.harness.channels.setOverwrite(owner, channel, {
      targetType: "member",
      targetId: member.userId,
      allow: "0",
      deny: String(PERMISSIONS.SEND_MESSAGES_IN_THREADS | PERMISSIONS.CREATE_PUBLIC_THREADS),
    });
    await settle();
    expect(
      await codeOf(env.messages.send(member, { channelId: channel, threadId: open.id, content: "no" })),
    ).toBe("FORBIDDEN");
    const root3 = await env.messages.send(member, { channelId: channel, content: "still allowed here" });
    expect(await codeOf(env.threads.start(member.userId, root3.id, "no"))).toBe("FORBIDDEN");
    expect((await env.messages.list(member, channel, { threadId: open.id })).messages).toEqual([]);
  });

  it("renames a thread: its creator or MANAGE_CHANNELS in the parent channel; refused renames change nothing", async () => {
    const { owner, member, server, channel } = await community(env);
    const other = testCaller(env);
    const moderator = testCaller(env);
    await env.harness.servers.join(other, server.id);
    await env.harness.servers.join(moderator, server.id);
    await env.harness.channels.setOverwrite(owner, channel, {
      targetType: "member",
      targetId: moderator.userId,
      allow: String(PERMISSIONS.MANAGE_CHANNELS),
      deny: "0",
    });
    await settle();
    const root = await env.messages.send(owner, { channelId: channel, content: "plans" });
    const thread = await env.threads.start(member.userId, root.id, "Plans");
    await env.messages.send(member, { channelId: channel, threadId: thread.id, content: "one" });
    const names = async () =>
      (await outboxOf(env, ["thread.updated"]))
        .map((e) => e.payload.thread as { id: string; name: string })
        .filter((t) => t.id === thread.id)
        .map((t) => t.name);
    const before = { rows: await threadRows(channel), names: await names() };
    expect(before.names).toEqual(["Plans"]);

    expect(await codeOf(env.threads.rename(other.userId, thread.id, "Mine"))).toBe("FORBIDDEN");
    expect(await codeOf(env.threads.rename(testCaller(env).userId, thread.id, "Mine"))).toBe("NOT_FOUND");
    for (const bad of ["  ", "x".repeat(101)]) {
      expect(await codeOf(env.threads.rename(member.userId, thread.id, bad))).toBe("BAD_USER_INPUT");
    }
    for (const missing of ["123", "not-an-id", root.id]) {
      expect(await codeOf(env.threads.rename(member.userId, missing, "x"))).toBe("NOT_FOUND");
    }
    expect(await threadRows(channel)).toEqual(before.rows);
    expect(await names()).toEqual(before.names);

    expect(await env.threads.rename(member.userId, thread.id, "  Road map ")).toMatchObject({
      id: thread.id,
      name: "Road map",
      creatorId: member.userId,
      messageCount: 1,
    });
    expect((await env.threads.rename(moderator.userId, thread.id, "Roadmap")).name).toBe("Roadmap");
    // The same name again: nothing to tell anyone.
    expect((await env.threads.rename(owner.userId, thread.id, "Roadmap")).name).toBe("Roadmap");
    expect(await names()).toEqual(["Plans", "Road map", "Roadmap"]);
    const [listed] = await env.threads.list(other.userId, channel);
    expect(listed).toMatchObject({ id: thread.id, name: "Roadmap", messageCount: 1 });
  });

  it("a deleted channel's threads, read positions, messages and reactions are removed by the cleanup consumer", async () => {
    const { owner, member, server } = await community(env);
    const doomed = await env.harness.channels.create(owner, server.id, textChannel("doomed"));
    await settle();
    const root = await env.messages.send(owner, { channelId: doomed.id, content: "root" });
    await env.reactions.add(member.userId, root.id, "👋");
    const thread = await env.threads.start(owner.userId, root.id, "bye");
    await env.messages.send(owner, { channelId: doomed.id, threadId: thread.id, content: "in" });
    await env.readStates.markRead(member, doomed.id);
    const counts = async () =>
      (
        await sql<{ t: string; r: string; m: string; x: string }>`
          select (select count(*) from messages.threads where channel_id = ${doomed.id}) as t,
            (select count(*) from messages.read_states where channel_id = ${doomed.id}) as r,
            (select count(*) from messages.messages where channel_id = ${doomed.id}) as m,
            (select count(*) from messages.reactions where message_id = ${root.id}) as x`.execute(env.root)
      ).rows[0];
    expect(await counts()).toEqual({ t: "1", r: "2", m: "2", x: "1" });
    const event = {
      id: newId(),
      type: "channel.deleted",
      occurredAt: new Date().toISOString(),
      payload: { serverId: server.id, channelId: doomed.id, deletedChannelIds: [doomed.id] },
    };
    await applyCleanup(env.db, new MessagesRepository(), event);
    expect(await counts()).toEqual({ t: "0", r: "0", m: "0", x: "0" });
  });
});
