import { type Bus, MemoryBus, OutboxRelay } from "@beep/bus";
import type { DatabaseHandle, RootDatabase } from "@beep/db";
import { openTestSchema, type TestSchema } from "@beep/db";
import { BeepError } from "@beep/errors";
import { newId } from "@beep/ids";
import { createLogger } from "@beep/observability";
import { PERMISSIONS } from "@beep/servers/permissions";
import { openServersHarness, type ServersHarness } from "@beep/servers/testing";
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChannelAccessCache, type ChannelDirectory } from "./channel-access.ts";
import { applyCleanup } from "./cleanup.consumers.ts";
import { MessagesRepository } from "./messages.repository.ts";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import { type MessagesCaller, MessagesService } from "./messages.service.ts";
import type { MessagesTables } from "./messages.tables.ts";
import { messagesMigrations } from "./migrations/index.ts";
import { SendBatcher } from "./send-batcher.ts";
import { harnessChannelDirectory } from "./testing/harness-channel-directory.ts";

const logger = createLogger({ service: "messages-test", level: "silent" });

let testSchema: TestSchema<MessagesTables>;
let handle: DatabaseHandle;
let db: Kysely<MessagesTables>;
let harness: ServersHarness;
let bus: Bus;
let relay: OutboxRelay<RootDatabase>;
let access: ChannelAccessCache;
let batcher: SendBatcher;
let messages: MessagesService;
/** Usernames known to the test's directory (users' lookup is one indexed query, exercised end to end in integration). */
const usernames = new Map<string, string>();
let bitsCalls = 0;

beforeAll(async () => {
  testSchema = await openTestSchema<MessagesTables>({
    schema: MESSAGES_SCHEMA,
    migrations: messagesMigrations,
    logger,
    poolSize: 12,
  });
  handle = testSchema.handle;
  db = testSchema.db;
  harness = await openServersHarness(handle, logger);
  bus = new MemoryBus(logger);
  // Servers' events reach messages' cache through a real outbox relay, as in production.
  relay = new OutboxRelay({ db: handle.db, schema: "servers", bus, logger, pollIntervalMs: 20 });
  await relay.start();
  const directory = harnessChannelDirectory(harness, () => {
    bitsCalls += 1;
  });
  access = new ChannelAccessCache(directory, { maxEntries: 1000, ttlMs: 60_000 });
  await access.subscribe(bus);
  const repo = new MessagesRepository();
  batcher = new SendBatcher({ db, repo });
  messages = new MessagesService({ db, repo, access, directory, batcher, bus });
}, 60_000);

afterAll(async () => {
  await relay?.stop();
  await access?.close();
  await bus?.close();
  await testSchema?.close();
});

function caller(userId = newId()): MessagesCaller {
  return {
    userId,
    findUsers: async (names) =>
      names.flatMap((name) => {
        const id = usernames.get(name.toLowerCase());
        return id ? [{ id, username: name }] : [];
      }),
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (error instanceof BeepError) return error.code;
    throw error;
  }
}

/** A server with an owner, a member and its #general channel. */
async function community() {
  const owner = caller();
  const member = caller();
  const server = await harness.servers.create(owner, { name: "Chat", description: "", public: true });
  await harness.servers.join(member, server.id);
  const channels = await harness.channels.list(owner, server.id);
  return { owner, member, server, channel: channels[0]!.id };
}

const textChannel = (name: string) => ({ name, type: "text" as const, parentId: "", topic: "" });

async function count(channelId: string): Promise<number> {
  const result = await sql<{ n: string }>`
    select count(*) as n from messages.messages where channel_id = ${channelId}`.execute(handle.db);
  return Number(result.rows[0]!.n);
}

async function outboxTypes(): Promise<string[]> {
  const result = await sql<{ type: string }>`select type from messages.outbox order by id`.execute(handle.db);
  return result.rows.map((row) => row.type);
}

/** Waits until the relay has carried servers' events to the cache (it polls every 20 ms). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

describe("send", () => {
  it("stores Markdown as is and emits message.created with the contract's MessageView", async () => {
    const { member, channel, server } = await community();
    const sent = await messages.send(member, { channelId: channel, content: "**hi** _there_" });
    expect(sent).toMatchObject({
      channelId: channel,
      serverId: server.id,
      content: "**hi** _there_",
      pinned: false,
    });
    const result = await sql<{ payload: Record<string, unknown> }>`
      select payload from messages.outbox
      where type = 'message.created' and payload->'message'->>'id' = ${sent.id}`.execute(handle.db);
    const payload = result.rows[0]!.payload;
    expect(Object.keys(payload).sort()).toEqual(["channelId", "message", "serverId"]);
    expect(Object.keys(payload.message as object).sort()).toEqual(
      [
        "id",
        "serverId",
        "channelId",
        "threadId",
        "authorId",
        "content",
        "nonce",
        "createdAt",
        "editedAt",
        "replyToId",
        "pinned",
        "mentions",
        "embeds",
        // Additive: the reply reference, so stream clients render replies without a fetch.
        "replyTo",
        "attachments",
      ].sort(),
    );
    expect((payload.message as { replyTo: unknown }).replyTo).toBeNull();
    const reply = await messages.send(member, { channelId: channel, content: "re", replyToId: sent.id });
    const replyEvent = await sql<{ payload: { message: { replyTo: unknown } } }>`
      select payload from messages.outbox
      where type = 'message.created' and payload->'message'->>'id' = ${reply.id}`.execute(handle.db);
    expect(replyEvent.rows[0]!.payload.message.replyTo).toEqual({
      id: sent.id,
      deleted: false,
      authorId: member.userId,
      content: "**hi** _there_",
    });
  });

  it("refuses empty, whitespace-only and over-long content with BAD_USER_INPUT, writing nothing", async () => {
    const { member, channel } = await community();
    for (const content of ["", "   \n\t ", "x".repeat(4001)]) {
      expect(await codeOf(messages.send(member, { channelId: channel, content }))).toBe("BAD_USER_INPUT");
    }
    // 4000 astral symbols (8000 UTF-16 units) are still 4000 characters.
    await messages.send(member, { channelId: channel, content: "😀".repeat(4000) });
    expect(await count(channel)).toBe(1);
  });

  it("refuses text PostgreSQL cannot store (NUL, unpaired surrogates) with BAD_USER_INPUT in send and edit", async () => {
    const { member, channel } = await community();
    const sent = await messages.send(member, { channelId: channel, content: "kept" });
    for (const content of ["a\u0000b", "a\ud800b", "\udc00"]) {
      const refused = messages.send(member, { channelId: channel, content });
      await expect(refused).rejects.toMatchObject({ code: "BAD_USER_INPUT", details: { field: "content" } });
      const edited = messages.edit(member, sent.id, content);
      await expect(edited).rejects.toMatchObject({ code: "BAD_USER_INPUT", details: { field: "content" } });
    }
    const withNonce = messages.send(member, { channelId: channel, content: "x", nonce: "n\u0000" });
    await expect(withNonce).rejects.toMatchObject({ code: "BAD_USER_INPUT", details: { field: "nonce" } });
    expect(await count(channel)).toBe(1);
    expect((await messages.list(member, channel, {})).messages.map((m) => m.content)).toEqual(["kept"]);
  });

  it("returns the same message for a repeated nonce, also under concurrent retries", async () => {
    const { member, channel } = await community();
    const first = await messages.send(member, { channelId: channel, content: "once", nonce: "n-1" });
    const again = await messages.send(member, { channelId: channel, content: "once", nonce: "n-1" });
    expect(again.id).toBe(first.id);
    const burst = await Promise.all(
      Array.from({ length: 20 }, () =>
        messages.send(member, { channelId: channel, content: "race", nonce: "n-2" }),
      ),
    );
    expect(new Set(burst.map((m) => m.id)).size).toBe(1);
    expect(await count(channel)).toBe(2);
  });

  it("concurrent retries through two independent write paths (two processes) still make one message", async () => {
    const { member, channel } = await community();
    const repo = new MessagesRepository();
    const directory: ChannelDirectory = {
      locate: async () => undefined,
      channelBits: async () => 0n,
      resolveMentions: async () => ({ userIds: [], roleIds: [], channelIds: [] }),
    };
    const second = new MessagesService({
      db,
      repo,
      access,
      directory,
      batcher: new SendBatcher({ db, repo }),
    });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 === 0 ? messages : second).send(member, { channelId: channel, content: "dup", nonce: "same" }),
      ),
    );
    expect(new Set(results.map((m) => m.id)).size).toBe(1);
    expect(await count(channel)).toBe(1);
  });

  it("replies only to a message of the same channel, and shows a deleted original as a reference", async () => {
    const { owner, member, server, channel } = await community();
    const other = await harness.channels.create(owner, server.id, textChannel("other"));
    const original = await messages.send(owner, { channelId: channel, content: "question?" });
    const elsewhere = await messages.send(owner, { channelId: other.id, content: "not here" });
    expect(
      await codeOf(messages.send(member, { channelId: channel, content: "re", replyToId: elsewhere.id })),
    ).toBe("BAD_USER_INPUT");
    expect(await codeOf(messages.send(member, { channelId: channel, content: "re", replyToId: "123" }))).toBe(
      "BAD_USER_INPUT",
    );
    const reply = await messages.send(member, {
      channelId: channel,
      content: "answer",
      replyToId: original.id,
    });
    expect(reply.replyTo).toEqual({
      id: original.id,
      deleted: false,
      authorId: owner.userId,
      content: "question?",
    });
    await messages.delete(owner, original.id);
    expect((await messages.get(member, reply.id)).replyTo).toEqual({ id: original.id, deleted: true });
  });

  it("batches concurrent sends into few transactions, keeping per-channel id order = commit order", async () => {
    const { owner, member, channel } = await community();
    const before = batcher.stats.batches;
    const sent = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        messages.send(i % 2 ? owner : member, { channelId: channel, content: `m${i}` }),
      ),
    );
    expect(batcher.stats.batches - before).toBeLessThan(30);
    const page = await messages.list(owner, channel, { limit: 100 });
    const ids = page.messages.map((m) => BigInt(m.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a > b ? -1 : 1)));
    expect(new Set(page.messages.map((m) => m.id))).toEqual(new Set(sent.map((m) => m.id)));
    // The outbox holds the channel's message.created events in id order, in the order the relay publishes
    // them (seq). Not by event id: a plain batch's event ids are minted before it waits for the lock.
    const events = await sql<{ mid: string }>`
      select payload->'message'->>'id' as mid from messages.outbox
      where type = 'message.created' and payload->>'channelId' = ${channel} order by seq`.execute(handle.db);
    const eventIds = events.rows.map((r) => BigInt(r.mid));
    expect(eventIds).toEqual([...eventIds].sort((a, b) => (a < b ? -1 : 1)));
  });
});

describe("permissions", () => {
  it("a non-member and a member without VIEW_CHANNEL get NOT_FOUND for everything, and nothing changes", async () => {
    const { owner, member, server, channel } = await community();
    const secret = await harness.channels.create(owner, server.id, textChannel("secret"));
    await harness.channels.setOverwrite(owner, secret.id, {
      targetType: "role",
      targetId: server.id,
      allow: "0",
      deny: String(PERMISSIONS.VIEW_CHANNEL),
    });
    await settle();
    const hidden = await messages.send(owner, { channelId: secret.id, content: "owners only", nonce: "h" });
    await messages.pin(owner, hidden.id);
    const outsider = caller();
    const rowsBefore = await sql`select * from messages.messages where channel_id = ${secret.id}`.execute(
      handle.db,
    );
    const outboxBefore = (await outboxTypes()).length;
    for (const who of [outsider, member]) {
      expect(await codeOf(messages.send(who, { channelId: secret.id, content: "hi" }))).toBe("NOT_FOUND");
      expect(await codeOf(messages.edit(who, hidden.id, "x"))).toBe("NOT_FOUND");
      expect(await codeOf(messages.delete(who, hidden.id))).toBe("NOT_FOUND");
      expect(await codeOf(messages.pin(who, hidden.id))).toBe("NOT_FOUND");
      expect(await codeOf(messages.unpin(who, hidden.id))).toBe("NOT_FOUND");
      expect(await codeOf(messages.get(who, hidden.id))).toBe("NOT_FOUND");
      expect(await codeOf(messages.list(who, secret.id, {}))).toBe("NOT_FOUND");
      expect(await codeOf(messages.pins(who, secret.id))).toBe("NOT_FOUND");
      expect(await codeOf(messages.startTyping(who, secret.id))).toBe("NOT_FOUND");
    }
    // A member cannot reply into #general to a hidden message either.
    expect(
      await codeOf(messages.send(member, { channelId: channel, content: "re", replyToId: hidden.id })),
    ).toBe("BAD_USER_INPUT");
    const rowsAfter = await sql`select * from messages.messages where channel_id = ${secret.id}`.execute(
      handle.db,
    );
    expect(rowsAfter.rows).toEqual(rowsBefore.rows);
    expect((await outboxTypes()).length).toBe(outboxBefore);
  });

  it("edits own only; deletes others' only with MANAGE_MESSAGES; pins need PIN_MESSAGES and stop at 50", async () => {
    const { owner, member, server, channel } = await community();
    const mine = await messages.send(owner, { channelId: channel, content: "owner's" });
    expect(await codeOf(messages.edit(member, mine.id, "hacked"))).toBe("FORBIDDEN");
    expect(await codeOf(messages.delete(member, mine.id))).toBe("FORBIDDEN");
    expect(await codeOf(messages.pin(member, mine.id))).toBe("FORBIDDEN");
    expect((await messages.get(owner, mine.id)).content).toBe("owner's");
    const theirs = await messages.send(member, { channelId: channel, content: "member's" });
    const edited = await messages.edit(member, theirs.id, "member's, edited");
    expect(edited.editedAt).not.toBeNull();
    expect(edited.content).toBe("member's, edited");
    const role = await harness.roles.create(owner, server.id, {
      name: "mods",
      color: 0,
      permissions: String(PERMISSIONS.MANAGE_MESSAGES | PERMISSIONS.PIN_MESSAGES),
    });
    await harness.roles.assign(owner, server.id, role.id, member.userId);
    await settle();
    await messages.pin(member, mine.id);
    expect((await messages.pins(member, channel)).map((m) => m.id)).toEqual([mine.id]);
    await messages.unpin(member, mine.id);
    expect(await messages.pins(member, channel)).toEqual([]);
    await messages.delete(member, mine.id);
    expect(await codeOf(messages.get(owner, mine.id))).toBe("NOT_FOUND");
    const many = await Promise.all(
      Array.from({ length: 51 }, (_, i) => messages.send(owner, { channelId: channel, content: `p${i}` })),
    );
    const pinned = await Promise.allSettled(many.map((m) => messages.pin(owner, m.id)));
    expect(pinned.filter((p) => p.status === "fulfilled")).toHaveLength(50);
    const refused = pinned.find((p) => p.status === "rejected") as PromiseRejectedResult;
    expect((refused.reason as BeepError).code).toBe("LIMIT_EXCEEDED");
    expect(await messages.pins(owner, channel)).toHaveLength(50);
  });

  it("a warm send costs no permission lookup; a member who loses SEND_MESSAGES is refused once the event arrives", async () => {
    const { owner, member, server, channel } = await community();
    // The setup's own events (server.created, member.joined) must have arrived before warming up.
    await settle();
    await messages.send(member, { channelId: channel, content: "warm up" });
    const calls = bitsCalls;
    await messages.send(member, { channelId: channel, content: "warm" });
    expect(bitsCalls).toBe(calls);
    await harness.channels.setOverwrite(owner, channel, {
      targetType: "member",
      targetId: member.userId,
      allow: "0",
      deny: String(PERMISSIONS.SEND_MESSAGES),
    });
    await settle();
    expect(await codeOf(messages.send(member, { channelId: channel, content: "muted?" }))).toBe("FORBIDDEN");
    // Kicked: the channel disappears for them.
    await harness.servers.kick(owner, server.id, member.userId, "");
    await settle();
    expect(await codeOf(messages.list(member, channel, {}))).toBe("NOT_FOUND");
  });
});

describe("history", () => {
  it("pages before/after/around with exact boundaries and hasMore", async () => {
    const { owner, channel } = await community();
    const sent: string[] = [];
    for (let i = 0; i < 12; i++)
      sent.push((await messages.send(owner, { channelId: channel, content: `h${i}` })).id);
    const newestFirst = [...sent].reverse();
    const ids = (page: { messages: Array<{ id: string }> }) => page.messages.map((m) => m.id);

    const latest = await messages.list(owner, channel, { limit: 5 });
    expect(ids(latest)).toEqual(newestFirst.slice(0, 5));
    expect(latest.hasMore).toBe(true);
    const all = await messages.list(owner, channel, {});
    expect(ids(all)).toEqual(newestFirst);
    expect(all.hasMore).toBe(false);

    const before = await messages.list(owner, channel, { before: sent[5], limit: 5 });
    expect(ids(before)).toEqual([sent[4], sent[3], sent[2], sent[1], sent[0]]);
    expect(before.hasMore).toBe(false);
    expect((await messages.list(owner, channel, { before: sent[6], limit: 5 })).hasMore).toBe(true);

    const after = await messages.list(owner, channel, { after: sent[6], limit: 5 });
    expect(ids(after)).toEqual([sent[11], sent[10], sent[9], sent[8], sent[7]]);
    expect(after.hasMore).toBe(false);
    const afterMore = await messages.list(owner, channel, { after: sent[0], limit: 5 });
    expect(ids(afterMore)).toEqual([sent[5], sent[4], sent[3], sent[2], sent[1]]);
    expect(afterMore.hasMore).toBe(true);
    expect(ids(await messages.list(owner, channel, { after: sent[11] }))).toEqual([]);

    const around = await messages.list(owner, channel, { around: sent[6], limit: 4 });
    expect(ids(around)).toEqual([sent[8], sent[7], sent[6], sent[5]]);
    expect(around.hasMore).toBe(true);
    expect(ids(await messages.list(owner, channel, { around: sent[0], limit: 3 }))).toEqual([
      sent[1],
      sent[0],
    ]);

    const bad = [
      { limit: 0.5 },
      { limit: 101 },
      { limit: -1 },
      { before: "x" },
      { before: sent[1], after: sent[0] },
    ];
    for (const query of bad)
      expect(await codeOf(messages.list(owner, channel, query))).toBe("BAD_USER_INPUT");
  });

  it("an after-cursor walk during concurrent sends sees every message exactly once", async () => {
    const { owner, member, channel } = await community();
    const first = await messages.send(owner, { channelId: channel, content: "start" });
    let cursor = first.id;
    const seen: string[] = [];
    let writing = true;
    const writers = Promise.all(
      [owner, member, owner, member].map(async (who) => {
        const ids: string[] = [];
        for (let i = 0; i < 30; i++)
          ids.push((await messages.send(who, { channelId: channel, content: `c${i}` })).id);
        return ids;
      }),
    ).finally(() => {
      writing = false;
    });
    const read = async (limit: number) => {
      const page = await messages.list(owner, channel, { after: cursor, limit });
      const chunk = page.messages.map((m) => m.id).reverse();
      seen.push(...chunk);
      if (chunk.length > 0) cursor = chunk[chunk.length - 1]!;
      return chunk.length;
    };
    while (writing) await read(7);
    const written = (await writers).flat();
    while ((await read(100)) > 0) {}
    expect(seen.length).toBe(written.length);
    expect(new Set(seen)).toEqual(new Set(written));
  });
});

describe("mentions", () => {
  it("keeps @username only for users who can view the channel; @everyone needs MENTION_EVERYONE; roles and #channels", async () => {
    const { owner, member, server, channel } = await community();
    const outsider = caller();
    const blind = caller();
    await harness.servers.join(blind, server.id);
    const suffix = newId().slice(-6);
    usernames.set(`alice${suffix}`, member.userId);
    usernames.set(`bob${suffix}`, outsider.userId);
    usernames.set(`carol${suffix}`, blind.userId);
    const secret = await harness.channels.create(owner, server.id, textChannel(`secret${suffix}`));
    await harness.channels.setOverwrite(owner, channel, {
      targetType: "member",
      targetId: blind.userId,
      allow: "0",
      deny: String(PERMISSIONS.VIEW_CHANNEL),
    });
    await harness.channels.setOverwrite(owner, secret.id, {
      targetType: "member",
      targetId: member.userId,
      allow: "0",
      deny: String(PERMISSIONS.VIEW_CHANNEL),
    });
    const role = await harness.roles.create(owner, server.id, {
      name: `team${suffix}`,
      color: 0,
      permissions: "0",
    });
    await settle();
    const content = `@alice${suffix} @bob${suffix} @carol${suffix} @team${suffix} <@&${role.id}> #secret${suffix} #general @everyone \`@alice${suffix}\``;
    const byMember = await messages.send(member, { channelId: channel, content });
    expect(byMember.mentions.userIds).toEqual([member.userId]);
    expect(byMember.mentions.roleIds).toEqual([role.id]);
    expect(byMember.mentions.channelIds).toEqual([channel]); // #secret is hidden from the sender
    expect(byMember.mentions.everyone).toBe(false);
    const byOwner = await messages.send(owner, { channelId: channel, content });
    expect(byOwner.mentions.everyone).toBe(true);
    expect(new Set(byOwner.mentions.channelIds)).toEqual(new Set([channel, secret.id]));
    const edited = await messages.edit(member, byMember.id, "no mentions now");
    expect(edited.mentions).toEqual({ userIds: [], roleIds: [], channelIds: [], everyone: false });
  });
});

describe("typing", () => {
  it("broadcasts typing.started ephemerally, throttled per user and channel, storing nothing", async () => {
    const { member, channel, server } = await community();
    const got: unknown[] = [];
    const sub = await bus.subscribeEphemeral(["typing.*"], (event) => void got.push(event.payload));
    const outboxBefore = (await outboxTypes()).length;
    const first = await messages.startTyping(member, channel);
    const second = await messages.startTyping(member, channel);
    expect(second.expiresAt).toBe(first.expiresAt);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(got).toEqual([
      { serverId: server.id, channelId: channel, userId: member.userId, expiresAt: first.expiresAt },
    ]);
    expect((await outboxTypes()).length).toBe(outboxBefore);
    await sub.close();
  });
});

describe("cleanup consumers", () => {
  const event = (type: string, payload: unknown) => ({
    id: newId(),
    type,
    occurredAt: new Date().toISOString(),
    payload,
  });
  const repo = new MessagesRepository();

  it("deletes a deleted channel's and a deleted server's messages, once per event", async () => {
    const { owner, server, channel } = await community();
    const other = await harness.channels.create(owner, server.id, textChannel("other"));
    await messages.send(owner, { channelId: channel, content: "a" });
    await messages.send(owner, { channelId: other.id, content: "b" });
    const deleted = event("channel.deleted", {
      serverId: server.id,
      channelId: other.id,
      deletedChannelIds: [other.id],
    });
    expect(await applyCleanup(db, repo, deleted)).toBe(true);
    expect(await applyCleanup(db, repo, deleted)).toBe(false);
    expect(await count(other.id)).toBe(0);
    expect(await count(channel)).toBe(1);
    await applyCleanup(db, repo, event("server.deleted", { serverId: server.id }));
    expect(await count(channel)).toBe(0);
  });

  it("a ban with a delete window purges that user's recent messages in the server and emits messages.purged", async () => {
    const { owner, member, server, channel } = await community();
    const old = await messages.send(member, { channelId: channel, content: "old" });
    await sql`update messages.messages set created_at = now() - interval '2 hours' where id = ${old.id}`.execute(
      handle.db,
    );
    const recent = await messages.send(member, { channelId: channel, content: "spam" });
    const kept = await messages.send(owner, { channelId: channel, content: "stays" });
    const since = new Date(Date.now() - 3600_000).toISOString();
    await applyCleanup(
      db,
      repo,
      event("member.banned", { serverId: server.id, userId: member.userId, deleteMessagesSince: since }),
    );
    const left = await sql<{ id: string }>`
      select id from messages.messages where channel_id = ${channel} order by id`.execute(handle.db);
    expect(left.rows.map((r) => r.id)).toEqual([old.id, kept.id]);
    const purged = await sql<{ payload: Record<string, unknown> }>`
      select payload from messages.outbox
      where type = 'messages.purged' and payload->>'userId' = ${member.userId}`.execute(handle.db);
    expect(purged.rows.map((r) => r.payload)).toEqual([
      { serverId: server.id, channelId: channel, userId: member.userId, messageIds: [recent.id] },
    ]);
  });
});
