import { type BusEvent, MemoryBus, OutboxRelay } from "@beep/bus";
import type { RootDatabase } from "@beep/db";
import { openTestSchema, serviceDatabase, type TestSchema } from "@beep/db";
import { newId } from "@beep/ids";
import { createLogger } from "@beep/observability";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { messageEventView } from "./message-views.ts";
import { type MessageRow, MessagesRepository } from "./messages.repository.ts";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import type { MentionSet, MessagesTables } from "./messages.tables.ts";
import { messagesMigrations } from "./migrations/index.ts";
import { ReadStatesRepository } from "./read-states.repository.ts";
import { type PendingSend, SendBatcher } from "./send-batcher.ts";
import { sendBatchExtras } from "./send-extras.ts";
import { ThreadsRepository } from "./threads.repository.ts";

const logger = createLogger({ service: "send-batcher-test", level: "silent" });
const repo = new MessagesRepository();
const extras = sendBatchExtras({ readStates: new ReadStatesRepository(), threads: new ThreadsRepository() });

let testSchema: TestSchema<MessagesTables>;
let db: Kysely<MessagesTables>;
let bus: MemoryBus;
let relay: OutboxRelay<RootDatabase>;
/** Every event the relay published, in publish order. */
const published: BusEvent[] = [];
/** The same database through a pool whose every round trip (BEGIN and COMMIT included) is recorded. */
let countingPool: pg.Pool;
let counted: Kysely<MessagesTables>;
const statements: string[] = [];

beforeAll(async () => {
  testSchema = await openTestSchema<MessagesTables>({
    schema: MESSAGES_SCHEMA,
    migrations: messagesMigrations,
    logger,
    poolSize: 8,
  });
  db = testSchema.db;
  bus = new MemoryBus(logger);
  await bus.subscribe(["message.created", "read_state.updated"], (event) => published.push(event));
  relay = new OutboxRelay({
    db: testSchema.handle.db,
    schema: MESSAGES_SCHEMA,
    bus,
    logger,
    pollIntervalMs: 20,
  });
  await relay.start();
  countingPool = new pg.Pool({ connectionString: testSchema.url, max: 4 });
  countingPool.on("error", () => undefined);
  counted = serviceDatabase<MessagesTables>(
    new Kysely({
      dialect: new PostgresDialect({ pool: countingPool }),
      log: (event) => {
        if (event.level === "query") statements.push(event.query.sql.trim());
      },
    }),
    MESSAGES_SCHEMA,
  );
}, 60_000);

afterAll(async () => {
  await relay?.stop();
  await bus?.close();
  await countingPool?.end();
  await testSchema?.close();
});

const noMentions: MentionSet = { userIds: [], roleIds: [], channelIds: [], everyone: false };

function plain(
  where: { serverId: string; channelId: string },
  authorId: string,
  content: string,
  extra: Partial<PendingSend> = {},
): PendingSend {
  return { ...where, authorId, content, nonce: null, replyToId: null, mentions: noMentions, ...extra };
}

const place = () => ({ serverId: newId(), channelId: newId() });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the relay has published `count` events about these channels; returns them in publish order. */
async function publishedIn(channelIds: readonly string[], count: number): Promise<BusEvent[]> {
  const ours = () =>
    published.filter((e) => channelIds.includes((e.payload as { channelId: string }).channelId));
  for (let waited = 0; ours().length < count && waited < 5_000; waited += 20) await sleep(20);
  return ours();
}

async function readPosition(userId: string, channelId: string): Promise<string | undefined> {
  const result = await sql<{ id: string }>`
    select last_read_message_id::text as id from messages.read_states
    where user_id = ${userId}::bigint and channel_id = ${channelId}::bigint`.execute(db);
  return result.rows[0]?.id;
}

describe("SendBatcher", () => {
  it("commits a batch of plain sends in 1 round trip (an autocommit statement); events in id order, payloads equal to the stored rows", async () => {
    const general = place();
    const other = { serverId: general.serverId, channelId: newId() };
    const [ann, bob] = [newId(), newId()];
    const batcher = new SendBatcher({ db: counted, repo, extras }, { maxBatch: 10, maxInFlight: 1 });
    statements.length = 0;
    // One batch (same turn): two channels, two authors, a mention, a nonce, @everyone.
    const outcomes = await Promise.all([
      batcher.send(plain(general, ann, "first", { nonce: 'n-1 "{a,b}"' })),
      batcher.send(plain(other, bob, "elsewhere")),
      batcher.send(plain(general, bob, `hi <@${ann}>`, { mentions: { ...noMentions, userIds: [ann] } })),
      // Values go to PostgreSQL as array literals: quotes, backslashes, braces, NULL and non-ASCII survive.
      batcher.send(plain(general, ann, 'second: "quoted" \\ back\nslash {x,y} NULL 😀 é')),
      batcher.send(plain(general, bob, "@everyone", { mentions: { ...noMentions, everyone: true } })),
    ]);
    expect(batcher.stats.batches).toBe(1);
    expect(batcher.stats.oneStatement).toBe(1);
    // No BEGIN/COMMIT: the statement is its own transaction, so the channel locks end with it.
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/^select .* from "messages"."send_batch"\(/s);

    const rows = outcomes.map((o) => o.row);
    expect(outcomes.every((o) => o.created)).toBe(true);
    const inIdOrder = [...rows].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    const events = await publishedIn([general.channelId, other.channelId], rows.length + 3);
    expect(events.map((e) => e.type)).toEqual([
      ...rows.map(() => "message.created"),
      "read_state.updated",
      "read_state.updated",
      "read_state.updated",
    ]);
    const messages = events
      .slice(0, rows.length)
      .map((e) => (e.payload as { message: { id: string } }).message);
    expect(messages.map((m) => m.id)).toEqual(inIdOrder.map((row) => row.id));
    for (const [k, message] of messages.entries()) {
      const stored = (await repo.find(db, message.id))!;
      // What the send answered and what the event carries are the row as stored (created_at included).
      expect(inIdOrder[k]).toEqual(stored);
      expect(message).toEqual(JSON.parse(JSON.stringify(messageEventView(stored, new Map()))));
    }
    // Each author's position moved to their newest message; later mentions of the batch are counted.
    const [first, , mention, second, everyone] = rows as [
      MessageRow,
      MessageRow,
      MessageRow,
      MessageRow,
      MessageRow,
    ];
    expect(events.slice(rows.length).map((e) => e.payload)).toEqual([
      {
        userId: ann,
        serverId: general.serverId,
        channelId: general.channelId,
        lastReadMessageId: second.id,
        mentionCount: 1,
      },
      {
        userId: bob,
        serverId: general.serverId,
        channelId: other.channelId,
        lastReadMessageId: rows[1]!.id,
        mentionCount: 0,
      },
      {
        userId: bob,
        serverId: general.serverId,
        channelId: general.channelId,
        lastReadMessageId: everyone.id,
        mentionCount: 0,
      },
    ]);
    expect(BigInt(first.id) < BigInt(mention.id)).toBe(true);
    expect(await readPosition(ann, general.channelId)).toBe(second.id);
    expect(await readPosition(bob, general.channelId)).toBe(everyone.id);
  });

  it("a send PostgreSQL refuses fails alone: the others of its batch are stored, in order", async () => {
    const general = place();
    const [ann, bob] = [newId(), newId()];
    const batcher = new SendBatcher({ db, repo, extras }, { maxBatch: 10, maxInFlight: 1 });
    // The service refuses such content before batching (assertStorableText); here it reaches PostgreSQL.
    const results = await Promise.allSettled([
      batcher.send(plain(general, ann, "before")),
      batcher.send(plain(general, bob, "poison \u0000")),
      batcher.send(plain(general, ann, "after")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const stored = await sql<{ content: string }>`
      select content from messages.messages where channel_id = ${general.channelId}::bigint order by id`.execute(
      db,
    );
    expect(stored.rows.map((r) => r.content)).toEqual(["before", "after"]);
  });

  it("a nonce duplicate in a batch writes and emits nothing; its author's position moves to their newest inserted message", async () => {
    const general = place();
    const [ann, bob] = [newId(), newId()];
    const batcher = new SendBatcher({ db, repo, extras }, { maxBatch: 10, maxInFlight: 1 });
    const original = (await batcher.send(plain(general, ann, "original", { nonce: "n" }))).row;
    const [fresh, again, mention] = await Promise.all([
      batcher.send(plain(general, ann, "fresh")),
      batcher.send(plain(general, ann, "original", { nonce: "n" })),
      batcher.send(plain(general, bob, `hi <@${ann}>`, { mentions: { ...noMentions, userIds: [ann] } })),
    ]);
    expect(batcher.stats.batches).toBe(2);
    expect(again).toEqual({ row: original, created: false });
    expect(fresh.created && mention.created).toBe(true);
    // The skipped send's would-be id was ann's newest of the batch: the position must not point at it.
    expect(await readPosition(ann, general.channelId)).toBe(fresh.row.id);
    const events = await publishedIn([general.channelId], 6);
    expect(events.map((e) => [e.type, (e.payload as { message?: { id: string } }).message?.id])).toEqual([
      ["message.created", original.id],
      ["read_state.updated", undefined],
      ["message.created", fresh.row.id],
      ["message.created", mention.row.id],
      ["read_state.updated", undefined],
      ["read_state.updated", undefined],
    ]);
    expect(events.slice(4).map((e) => e.payload)).toEqual([
      {
        userId: ann,
        serverId: general.serverId,
        channelId: general.channelId,
        lastReadMessageId: fresh.row.id,
        mentionCount: 1,
      },
      {
        userId: bob,
        serverId: general.serverId,
        channelId: general.channelId,
        lastReadMessageId: mention.row.id,
        mentionCount: 0,
      },
    ]);
  });

  it("an event's createdAt is the stored time as node-pg reads it (µs truncated to ms), also when the µs would round up", async () => {
    const general = place();
    const batcher = new SendBatcher({ db, repo, extras }, { maxBatch: 10, maxInFlight: 1 });
    // now() is not ours to choose: send until one created_at has ≥ 500 µs past its ms (rounding ≠ truncation).
    let roundsUp = 0;
    for (let n = 1; n <= 40 && roundsUp === 0; n += 1) {
      const { row } = await batcher.send(plain(general, newId(), `m${n}`));
      const micros = await sql<{ us: number }>`
        select (extract(microseconds from created_at)::int % 1000) as us from messages.messages
        where id = ${row.id}::bigint`.execute(db);
      if (micros.rows[0]!.us >= 500) roundsUp = n;
    }
    expect(roundsUp).toBeGreaterThan(0);
    const events = await publishedIn([general.channelId], roundsUp * 2);
    const created = events.filter((e) => e.type === "message.created");
    expect(created).toHaveLength(roundsUp);
    for (const event of created) {
      const { message } = event.payload as { message: { id: string; createdAt: string } };
      const stored = (await repo.find(db, message.id))!;
      expect(message.createdAt).toBe(stored.created_at.toISOString());
    }
  });

  it("the same nonce twice in one plain batch: one message, the later send shares it (created: false), one statement", async () => {
    const general = place();
    const ann = newId();
    const batcher = new SendBatcher({ db: counted, repo, extras }, { maxBatch: 10, maxInFlight: 1 });
    statements.length = 0;
    const [first, again, other] = await Promise.all([
      batcher.send(plain(general, ann, "once", { nonce: "twice" })),
      batcher.send(plain(general, ann, "once", { nonce: "twice" })),
      batcher.send(plain(general, ann, "another")),
    ]);
    expect(statements).toHaveLength(1);
    expect(first.created).toBe(true);
    expect(again).toEqual({ row: first.row, created: false });
    expect(other.created).toBe(true);
    expect(await repo.find(db, first.row.id)).toEqual(first.row);
    const events = await publishedIn([general.channelId], 3);
    expect(events.map((e) => e.type)).toEqual(["message.created", "message.created", "read_state.updated"]);
  });

  it("a nonce retry of an already stored message returns the stored one and writes nothing", async () => {
    const general = place();
    const ann = newId();
    const batcher = new SendBatcher({ db: counted, repo, extras }, { maxBatch: 10, maxInFlight: 1 });
    const original = await batcher.send(plain(general, ann, "original", { nonce: "retry" }));
    statements.length = 0;
    const retry = await batcher.send(plain(general, ann, "original", { nonce: "retry" }));
    expect(retry).toEqual({ row: original.row, created: false });
    // The function found the nonce stored and wrote nothing; the general path looked the message up.
    expect(statements[0]).toContain("send_batch");
    expect(statements[1]).toBe("begin");
    expect(batcher.stats).toMatchObject({ batches: 2, oneStatement: 1 });
    const stored = await sql<{ n: string }>`
      select count(*)::text as n from messages.messages where channel_id = ${general.channelId}::bigint`.execute(
      db,
    );
    expect(stored.rows[0]!.n).toBe("1");
    const events = await publishedIn([general.channelId], 2);
    await sleep(100);
    expect((await publishedIn([general.channelId], 2)).map((e) => e.type)).toEqual(events.map((e) => e.type));
    expect(events.map((e) => e.type)).toEqual(["message.created", "read_state.updated"]);
  });

  it("a batch mixing plain sends and a reply runs on the general path", async () => {
    const general = place();
    const [ann, bob] = [newId(), newId()];
    const batcher = new SendBatcher({ db: counted, repo, extras }, { maxBatch: 10, maxInFlight: 1 });
    const original = (await batcher.send(plain(general, ann, "question"))).row;
    statements.length = 0;
    const [answer, aside] = await Promise.all([
      batcher.send(plain(general, bob, "answer", { replyToId: original.id })),
      batcher.send(plain(general, ann, "aside", { nonce: "aside" })),
    ]);
    expect(statements[0]).toBe("begin");
    expect(statements.at(-1)).toBe("commit");
    expect(statements.some((q) => q.includes("send_batch"))).toBe(false);
    expect(batcher.stats).toMatchObject({ batches: 2, oneStatement: 1 });
    expect(answer.created && aside.created).toBe(true);
    expect(answer.row.reply_to_id).toBe(original.id);
    const events = await publishedIn([general.channelId], 5);
    const messages = events
      .filter((e) => e.type === "message.created")
      .map((e) => (e.payload as { message: { id: string } }).message);
    expect(messages.map((m) => m.id)).toEqual([original.id, answer.row.id, aside.row.id]);
    const replied = new Map([[original.id, original]]);
    for (const message of messages) {
      const stored = (await repo.find(db, message.id))!;
      expect(message).toEqual(JSON.parse(JSON.stringify(messageEventView(stored, replied))));
    }
    expect(await readPosition(bob, general.channelId)).toBe(answer.row.id);
    expect(await readPosition(ann, general.channelId)).toBe(aside.row.id);
  });

  it("allocates ids above a message committed by the previous holder of the channel's lock", async () => {
    const general = place();
    const batcher = new SendBatcher({ db, repo, extras }, { maxBatch: 10, maxInFlight: 1 });
    // Far above any id the batch's clock would mint: only the newest-id read can lift the batch's id over it.
    const ahead = (BigInt(newId()) + (1n << 40n)).toString();
    let pending: Promise<{ row: MessageRow }> | undefined;
    let settled = false;
    await db.transaction().execute(async (trx) => {
      await repo.lockChannelsLatest(trx, [general.channelId]);
      await sql`
        insert into messages.messages (id, server_id, channel_id, author_id, content)
        values (${ahead}::bigint, ${general.serverId}::bigint, ${general.channelId}::bigint, ${newId()}::bigint, 'held')`.execute(
        trx,
      );
      pending = batcher.send(plain(general, newId(), "after"));
      void pending.then(() => {
        settled = true;
      });
      await sleep(200);
      expect(settled).toBe(false);
    });
    const { row } = await pending!;
    expect(BigInt(row.id) > BigInt(ahead)).toBe(true);
  });

  it("two write paths (processes) sending to overlapping channels never deadlock and publish each channel in id order", async () => {
    const server = newId();
    const channels = [newId(), newId(), newId()].map((channelId) => ({ serverId: server, channelId }));
    const paths = [
      new SendBatcher({ db, repo, extras }, { maxBatch: 8, maxInFlight: 2 }),
      new SendBatcher({ db, repo, extras }, { maxBatch: 8, maxInFlight: 2 }),
    ];
    const sent = await Promise.all(
      Array.from({ length: 90 }, (_, i) =>
        paths[i % 2]!.send(plain(channels[(i * 7) % 3]!, newId(), `m${i}`)),
      ),
    );
    const events = await publishedIn(
      channels.map((c) => c.channelId),
      sent.length * 2,
    );
    for (const { channelId } of channels) {
      const ids = events
        .filter(
          (e) => e.type === "message.created" && (e.payload as { channelId: string }).channelId === channelId,
        )
        .map((e) => BigInt((e.payload as { message: { id: string } }).message.id));
      expect(ids).toHaveLength(30);
      expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : 1)));
    }
  });
});
