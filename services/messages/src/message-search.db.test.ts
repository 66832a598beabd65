import { MemoryBus, OutboxRelay } from "@beep/bus";
import type { DatabaseHandle, RootDatabase } from "@beep/db";
import { openTestSchema, type TestSchema } from "@beep/db";
import { BeepError } from "@beep/errors";
import { newId } from "@beep/ids";
import { createLogger } from "@beep/observability";
import { PERMISSIONS } from "@beep/servers/permissions";
import { openServersHarness, type ServersHarness } from "@beep/servers/testing";
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChannelAccessCache } from "./channel-access.ts";
import { MessageSearchService, type SearchInput, type SearchPermissions } from "./message-search.ts";
import { firstIdAt, MessagesRepository } from "./messages.repository.ts";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import { type MessagesCaller, MessagesService } from "./messages.service.ts";
import type { MessagesTables } from "./messages.tables.ts";
import { messagesMigrations } from "./migrations/index.ts";
import { SendBatcher } from "./send-batcher.ts";
import { harnessChannelDirectory } from "./testing/harness-channel-directory.ts";

const logger = createLogger({ service: "message-search-test", level: "silent" });

let testSchema: TestSchema<MessagesTables>;
let handle: DatabaseHandle;
let db: Kysely<MessagesTables>;
let harness: ServersHarness;
let bus: MemoryBus;
let relay: OutboxRelay<RootDatabase>;
let access: ChannelAccessCache;
let messages: MessagesService;
let search: MessageSearchService;
let batchedLookups = 0;
const usernames = new Map<string, string>();

beforeAll(async () => {
  testSchema = await openTestSchema<MessagesTables>({
    schema: MESSAGES_SCHEMA,
    migrations: messagesMigrations,
    logger,
    poolSize: 8,
  });
  handle = testSchema.handle;
  db = testSchema.db;
  harness = await openServersHarness(handle, logger);
  bus = new MemoryBus(logger);
  relay = new OutboxRelay({ db: handle.db, schema: "servers", bus, logger, pollIntervalMs: 20 });
  await relay.start();
  const directory = harnessChannelDirectory(harness);
  const permissions: SearchPermissions = {
    async channelBitsMany(userId, serverId, channelIds) {
      batchedLookups += 1;
      const rows = await harness.permissions().channelPermissions(userId, serverId, channelIds);
      return new Map(rows.map((row) => [row.channelId, row.permissions]));
    },
    async isMember(userId, serverId) {
      return (await harness.permissions().check(userId, serverId, "", "0")).permissions !== 0n;
    },
  };
  access = new ChannelAccessCache(directory, { maxEntries: 1000, ttlMs: 60_000 });
  await access.subscribe(bus);
  const repo = new MessagesRepository();
  messages = new MessagesService({
    db,
    repo,
    access,
    directory,
    batcher: new SendBatcher({ db, repo }),
    bus,
  });
  search = new MessageSearchService({ db, repo, permissions, directory, access });
}, 60_000);

afterAll(async () => {
  await relay?.stop();
  await access?.close();
  await bus?.close();
  await testSchema?.close();
});

function caller(username?: string): MessagesCaller {
  const userId = newId();
  if (username) usernames.set(username, userId);
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

const textChannel = (name: string) => ({ name, type: "text" as const, parentId: "", topic: "" });
const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

/** A server with an owner, a member, #general, and #secret hidden from @everyone. */
async function community() {
  const suffix = newId().slice(-6);
  const owner = caller(`owner${suffix}`);
  const member = caller(`member${suffix}`);
  const server = await harness.servers.create(owner, { name: "Search", description: "", public: true });
  await harness.servers.join(member, server.id);
  const general = (await harness.channels.list(owner, server.id))[0]!.id;
  const secret = await harness.channels.create(owner, server.id, textChannel("secret"));
  await harness.channels.setOverwrite(owner, secret.id, {
    targetType: "role",
    targetId: server.id,
    allow: "0",
    deny: String(PERMISSIONS.VIEW_CHANNEL),
  });
  await settle();
  return { owner, member, server, serverId: server.id, general, secret: secret.id, suffix };
}

const send = (who: MessagesCaller, channelId: string, content: string) =>
  messages.send(who, { channelId, content });

async function contents(who: MessagesCaller, input: SearchInput): Promise<string[]> {
  return (await search.search(who, input)).messages.map((m) => m.content);
}

describe("message search", () => {
  it("ranks by relevance with newest as the tiebreak, or by newest when asked", async () => {
    const { member, serverId, general } = await community();
    const weak = await send(
      member,
      general,
      "a long message that mentions deploy once among many other words here",
    );
    const strong = await send(member, general, "deploy deploy");
    const tieOld = await send(member, general, "deploy now");
    const tieNew = await send(member, general, "deploy now");
    await send(member, general, "unrelated chatter");
    const ranked = (await search.search(member, { serverId, query: "deploy" })).messages.map((m) => m.id);
    expect(ranked).toEqual([strong.id, tieNew.id, tieOld.id, weak.id]);
    const newest = await search.search(member, { serverId, query: "deploy", sort: "NEWEST" });
    expect(newest.messages.map((m) => m.id)).toEqual([tieNew.id, tieOld.id, strong.id, weak.id]);
    expect(newest.totalHits).toBe(4);
  });

  it("matches every word as a prefix, case and accent insensitive, and quoted phrases in order", async () => {
    const { member, serverId, general } = await community();
    await send(member, general, "Here is an EXAMPLE of the Café menu");
    await send(member, general, "menu example");
    await send(member, general, "only example");
    expect(await contents(member, { serverId, query: "exam" })).toHaveLength(3);
    expect(await contents(member, { serverId, query: "exam cafe", sort: "NEWEST" })).toEqual([
      "Here is an EXAMPLE of the Café menu",
    ]);
    expect(await contents(member, { serverId, query: "CAFÉ" })).toHaveLength(1);
    expect(await contents(member, { serverId, query: '"menu example"' })).toEqual(["menu example"]);
    expect(await contents(member, { serverId, query: '"example menu"' })).toEqual([]);
    expect(await contents(member, { serverId, query: "exam zebra" })).toEqual([]);
    // Whatever the folding makes of odd characters, a query never breaks the tsquery syntax.
    for (const query of ["½ ß Æon", "'quoted' \\ & | ! :* <-> ()", '"½ ß" "a\'b c"', "ﬁ ŉ ǅ 𝟘"]) {
      expect(await contents(member, { serverId, query }), query).toEqual([]);
    }
  });

  it("finds URLs by hostname and path words", async () => {
    const { member, serverId, general } = await community();
    await send(member, general, "see https://github.com/beep-chat/search-engine/pull/42 please");
    await send(member, general, "nothing to see");
    for (const query of [
      "github",
      "github.com",
      "beep-chat",
      "engine",
      "pull 42",
      "https://github.com/beep",
    ]) {
      expect(await contents(member, { serverId, query }), query).toHaveLength(1);
    }
    expect(await contents(member, { serverId, query: "gitlab" })).toEqual([]);
  });

  it("filters by author (from: and authorId), channel (channelId and in:#name), has:link, dates", async () => {
    const { owner, member, serverId, general, suffix } = await community();
    const random = (await harness.channels.create(owner, serverId, textChannel(`random${suffix}`))).id;
    await settle();
    await send(member, general, "report from member https://example.org");
    await send(owner, general, "report from owner");
    await send(owner, random, "report in random");
    expect(await contents(member, { serverId, query: `report from:@member${suffix}` })).toEqual([
      "report from member https://example.org",
    ]);
    expect(
      await contents(member, { serverId, query: "report", authorId: owner.userId, sort: "NEWEST" }),
    ).toEqual(["report in random", "report from owner"]);
    expect(await contents(member, { serverId, query: "from:nobody-at-all report" })).toEqual([]);
    expect(await contents(member, { serverId, query: "report", channelId: random })).toEqual([
      "report in random",
    ]);
    expect(await contents(member, { serverId, query: `report in:#random${suffix}` })).toEqual([
      "report in random",
    ]);
    expect(await contents(member, { serverId, query: "report has:link" })).toHaveLength(1);
    expect(await contents(member, { serverId, query: "report", has: ["LINK"] })).toHaveLength(1);
    expect(await contents(member, { serverId, query: "report", has: ["FILE"] })).toEqual([]);
    // has:file: messages with an attachment.
    await sql`insert into messages.attachments
        (id, uploader_id, server_id, channel_id, message_id, filename, content_type, size, blob_key)
      select m.id, m.author_id, m.server_id, m.channel_id, m.id, 'r.pdf', 'application/octet-stream', 1, 'k'
      from messages.messages m where content = 'report from owner' and server_id = ${serverId}::bigint`.execute(
      handle.db,
    );
    expect(await contents(member, { serverId, query: "report has:file" })).toEqual(["report from owner"]);
    // has:embed: messages the link preview consumer gave an embed.
    await sql`update messages.messages set embeds = '[{"url":"https://example.org","type":"link"}]'::jsonb
      where content = 'report from member https://example.org' and server_id = ${serverId}::bigint`.execute(
      handle.db,
    );
    expect(await contents(member, { serverId, query: "report has:embed" })).toEqual([
      "report from member https://example.org",
    ]);
    expect(await contents(member, { serverId, query: "report", has: ["EMBED", "LINK"] })).toHaveLength(1);
    // Filters alone are a search too.
    expect(await contents(member, { serverId, query: "has:link" })).toHaveLength(1);

    // Dates: a message from 2026-06-15 (ids are time-ordered, so it gets an id of that day).
    const old = new Date("2026-06-15T12:00:00Z");
    await sql`
      insert into messages.messages (id, server_id, channel_id, author_id, content, created_at)
      values (${(BigInt(firstIdAt(old)) + 7n).toString()}::bigint, ${serverId}::bigint, ${general}::bigint,
              ${owner.userId}::bigint, 'report from the past', ${old})`.execute(handle.db);
    expect(await contents(member, { serverId, query: "report before:2026-06-16" })).toEqual([
      "report from the past",
    ]);
    expect(await contents(member, { serverId, query: "report before:2026-06-15" })).toEqual([]);
    expect(await contents(member, { serverId, query: "report after:2026-06-15" })).toHaveLength(3);
    expect(await contents(member, { serverId, query: "report after:2026-06-14" })).toHaveLength(4);
    expect(await contents(member, { serverId, query: "report", sentBefore: "2026-07-01T00:00:00Z" })).toEqual(
      ["report from the past"],
    );
    expect(
      await contents(member, { serverId, query: "report", sentAfter: "2026-07-01T00:00:00Z" }),
    ).toHaveLength(3);
  });

  it("never shows or counts a hidden channel's messages, pages stay full, one batched permission lookup", async () => {
    const { owner, member, serverId, general, secret } = await community();
    for (let i = 0; i < 6; i += 1) await send(owner, secret, `launch code ${i}`);
    for (let i = 0; i < 5; i += 1) await send(owner, general, `launch party ${i}`);
    const before = batchedLookups;
    const first = await search.search(member, { serverId, query: "launch", first: 3 });
    expect(batchedLookups - before).toBe(1);
    expect(first.totalHits).toBe(5);
    expect(first.messages).toHaveLength(3);
    expect(first.hasMore).toBe(true);
    const second = await search.search(member, {
      serverId,
      query: "launch",
      first: 3,
      after: first.endCursor!,
    });
    expect(second.messages).toHaveLength(2);
    // The second page's permissions came from messages' cache: no lookup at all.
    expect(batchedLookups - before).toBe(1);
    expect(second.hasMore).toBe(false);
    const seen = [...first.messages, ...second.messages];
    expect(new Set(seen.map((m) => m.id)).size).toBe(5);
    expect(seen.every((m) => m.channelId === general)).toBe(true);
    // The owner sees both channels.
    expect((await search.search(owner, { serverId, query: "launch" })).totalHits).toBe(11);
    // Naming the hidden channel is NOT_FOUND, not an empty result.
    expect(await codeOf(search.search(member, { serverId, query: "launch", channelId: secret }))).toBe(
      "NOT_FOUND",
    );
    // Read access without READ_MESSAGE_HISTORY hides the channel from search as from history.
    await harness.channels.setOverwrite(owner, general, {
      targetType: "role",
      targetId: serverId,
      allow: "0",
      deny: String(PERMISSIONS.READ_MESSAGE_HISTORY),
    });
    // The overwrite's channel.updated event drops the server's cached bits.
    await settle();
    const page = await search.search(member, { serverId, query: "launch" });
    expect(page).toMatchObject({ messages: [], totalHits: 0 });
  });

  it("a stranger gets NOT_FOUND for the server; bad input is BAD_USER_INPUT", async () => {
    const { owner, member, serverId, general } = await community();
    await send(owner, general, "hello world");
    expect(await codeOf(search.search(caller(), { serverId, query: "hello" }))).toBe("NOT_FOUND");
    expect(await codeOf(search.search(member, { serverId: "nope", query: "hello" }))).toBe("NOT_FOUND");
    expect(await codeOf(search.search(member, { serverId: newId(), query: "hello" }))).toBe("NOT_FOUND");
    for (const input of [
      { query: "" },
      { query: "hello", first: 101 },
      { query: "hello", sort: "OLDEST" },
      { query: "hello", after: "garbage" },
      { query: "hello", has: ["POLL"] },
      { query: "hello", sentBefore: "not a date" },
      { query: "before:2026-13-01 hello" },
    ]) {
      expect(await codeOf(search.search(member, { serverId, ...input })), JSON.stringify(input)).toBe(
        "BAD_USER_INPUT",
      );
    }
    // A cursor of the other sort is refused too.
    const page = await search.search(member, { serverId, query: "hello", sort: "NEWEST", first: 1 });
    expect(await codeOf(search.search(member, { serverId, query: "hello", after: page.endCursor! }))).toBe(
      "BAD_USER_INPUT",
    );
    // A member of a server with no messages gets an empty page, not NOT_FOUND.
    const quiet = await harness.servers.create(owner, { name: "Quiet", description: "", public: true });
    expect(await search.search(owner, { serverId: quiet.id, query: "hello" })).toMatchObject({
      totalHits: 0,
    });
  });

  it("reflects edits and deletions", async () => {
    const { member, serverId, general } = await community();
    const sent = await send(member, general, "original wording");
    expect(await contents(member, { serverId, query: "original" })).toHaveLength(1);
    await messages.edit(member, sent.id, "revised wording");
    expect(await contents(member, { serverId, query: "original" })).toEqual([]);
    expect(await contents(member, { serverId, query: "revised" })).toEqual(["revised wording"]);
    await messages.delete(member, sent.id);
    expect(await contents(member, { serverId, query: "wording" })).toEqual([]);
  });
});

describe("search folding", () => {
  it("folds case and Latin accents the same way with unaccent and with the translate() fallback", async () => {
    const result = await sql<{ fold: string; basic: string }>`
      select messages.search_fold('Çafé ÉTÉ Ŝkål') as fold, messages.search_fold_basic('Çafé ÉTÉ Ŝkål') as basic`.execute(
      handle.db,
    );
    expect(result.rows[0]).toEqual({ fold: "cafe ete skal", basic: "cafe ete skal" });
  });
});
