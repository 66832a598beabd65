import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BlobStore, openBlobStore } from "@beep/blob";
import { type Bus, MemoryBus, OutboxRelay } from "@beep/bus";
import type { DatabaseHandle, RootDatabase } from "@beep/db";
import { openTestSchema, type TestSchema } from "@beep/db";
import { BeepError } from "@beep/errors";
import { newId } from "@beep/ids";
import { createLogger } from "@beep/observability";
import { PERMISSIONS } from "@beep/servers/permissions";
import { openServersHarness, type ServersHarness } from "@beep/servers/testing";
import { type Kysely, sql } from "kysely";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AttachmentsRepository } from "./attachments.repository.ts";
import { AttachmentsService } from "./attachments.service.ts";
import { ChannelAccessCache } from "./channel-access.ts";
import { applyCleanup } from "./cleanup.consumers.ts";
import { MessagesRepository } from "./messages.repository.ts";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import { type MessagesCaller, MessagesService } from "./messages.service.ts";
import type { MessagesTables } from "./messages.tables.ts";
import { messagesMigrations } from "./migrations/index.ts";
import { SendBatcher } from "./send-batcher.ts";
import { harnessChannelDirectory } from "./testing/harness-channel-directory.ts";

const logger = createLogger({ service: "attachments-test", level: "silent" });
const MAX_BYTES = 64 * 1024;
const TTL_MS = 60 * 60_000;

let testSchema: TestSchema<MessagesTables>;
let handle: DatabaseHandle;
let db: Kysely<MessagesTables>;
let harness: ServersHarness;
let bus: Bus;
let relay: OutboxRelay<RootDatabase>;
let access: ChannelAccessCache;
let messages: MessagesService;
let attachments: AttachmentsService;
let blobs: BlobStore;
let blobDir: string;

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
  access = new ChannelAccessCache(directory, { maxEntries: 1000, ttlMs: 60_000 });
  await access.subscribe(bus);
  blobDir = mkdtempSync(join(tmpdir(), "beep-attachments-test-"));
  blobs = await openBlobStore(`file://${blobDir}`);
  const repo = new MessagesRepository();
  const attachmentRows = new AttachmentsRepository();
  messages = new MessagesService({
    db,
    repo,
    access,
    directory,
    batcher: new SendBatcher({ db, repo, attachments: attachmentRows }),
    bus,
    attachments: attachmentRows,
  });
  attachments = new AttachmentsService({
    db,
    repo: attachmentRows,
    access,
    blobs,
    maxBytes: MAX_BYTES,
    pendingTtlMs: TTL_MS,
    logger,
  });
}, 60_000);

afterAll(async () => {
  await relay?.stop();
  await access?.close();
  await bus?.close();
  await blobs?.close();
  await testSchema?.close();
  if (blobDir) rmSync(blobDir, { recursive: true, force: true });
});

function caller(userId = newId()): MessagesCaller {
  return { userId, findUsers: async () => [] };
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

async function community() {
  const owner = caller();
  const member = caller();
  const server = await harness.servers.create(owner, { name: "Files", description: "", public: true });
  await harness.servers.join(member, server.id);
  const channels = await harness.channels.list(owner, server.id);
  return { owner, member, server, channel: channels[0]!.id };
}

const textChannel = (name: string) => ({ name, type: "text" as const, parentId: "", topic: "" });
const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

async function png(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: "#3366ff" } })
    .png()
    .toBuffer();
}

async function attachmentRows(channelId: string) {
  const result = await sql<{ id: string; message_id: string | null; blob_key: string }>`
    select id, message_id, blob_key from messages.attachments where channel_id = ${channelId} order by id`.execute(
    handle.db,
  );
  return result.rows;
}

const blobKeys = async () => blobs.list("attachments/");

describe("upload", () => {
  it("sniffs an image, records its dimensions and stores a thumbnail of at most 400 px", async () => {
    const { member, channel } = await community();
    const view = await attachments.upload(member.userId, {
      channelId: channel,
      filename: "../../etc/cat.png",
      data: await png(1200, 600),
    });
    expect(view).toMatchObject({
      filename: "cat.png",
      contentType: "image/png",
      width: 1200,
      height: 600,
      url: `/attachments/${view.id}/cat.png`,
      thumbnailUrl: `/attachments/${view.id}/thumbnail/cat.png`,
    });
    const thumb = await attachments.open(member.userId, view.id, true);
    const stored = await blobs.get(thumb.blobKey);
    const chunks: Buffer[] = [];
    for await (const chunk of stored!.body) chunks.push(chunk as Buffer);
    const meta = await sharp(Buffer.concat(chunks)).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["webp", 400, 200]);
  });

  it("never trusts a declared type: HTML bytes named .png are application/octet-stream without thumbnail", async () => {
    const { member, channel } = await community();
    const view = await attachments.upload(member.userId, {
      channelId: channel,
      filename: "evil.png",
      data: Buffer.from("<html><script>alert(1)</script></html>"),
    });
    expect(view).toMatchObject({ contentType: "application/octet-stream", width: null, thumbnailUrl: null });
    expect(await codeOf(attachments.open(member.userId, view.id, true))).toBe("NOT_FOUND");
  });

  it("needs VIEW_CHANNEL (else NOT_FOUND) and ATTACH_FILES (else FORBIDDEN) before storing anything", async () => {
    const { owner, member, server, channel } = await community();
    const secret = await harness.channels.create(owner, server.id, textChannel("secret"));
    await harness.channels.setOverwrite(owner, secret.id, {
      targetType: "role",
      targetId: server.id,
      allow: "0",
      deny: String(PERMISSIONS.VIEW_CHANNEL),
    });
    await harness.channels.setOverwrite(owner, channel, {
      targetType: "member",
      targetId: member.userId,
      allow: "0",
      deny: String(PERMISSIONS.ATTACH_FILES),
    });
    await settle();
    const data = Buffer.from("hello");
    const before = (await blobKeys()).length;
    expect(
      await codeOf(attachments.upload(member.userId, { channelId: secret.id, filename: "a", data })),
    ).toBe("NOT_FOUND");
    expect(
      await codeOf(attachments.upload(caller().userId, { channelId: channel, filename: "a", data })),
    ).toBe("NOT_FOUND");
    expect(await codeOf(attachments.upload(member.userId, { channelId: channel, filename: "a", data }))).toBe(
      "FORBIDDEN",
    );
    expect(await codeOf(attachments.checkUpload(member.userId, channel))).toBe("FORBIDDEN");
    expect(
      await codeOf(
        attachments.upload(owner.userId, {
          channelId: channel,
          filename: "a",
          data: Buffer.alloc(MAX_BYTES + 1),
        }),
      ),
    ).toBe("LIMIT_EXCEEDED");
    expect(await codeOf(attachments.upload(owner.userId, { channelId: channel, filename: "  ", data }))).toBe(
      "BAD_USER_INPUT",
    );
    expect((await blobKeys()).length).toBe(before);
    expect(await attachmentRows(channel)).toEqual([]);
  });
});

describe("send with attachments", () => {
  it("attaches own pending uploads once, allows empty content, and carries them in the record and the event", async () => {
    const { member, channel } = await community();
    const image = await attachments.upload(member.userId, {
      channelId: channel,
      filename: "pic.png",
      data: await png(10, 20),
    });
    const file = await attachments.upload(member.userId, {
      channelId: channel,
      filename: "notes.txt",
      data: Buffer.from("notes"),
    });
    const sent = await messages.send(member, {
      channelId: channel,
      content: "",
      attachmentIds: [image.id, file.id],
    });
    expect(sent.content).toBe("");
    expect(sent.attachments.map((a) => [a.id, a.width, a.height, a.size])).toEqual([
      [image.id, 10, 20, image.size],
      [file.id, null, null, 5],
    ]);
    const event = await sql<{ payload: { message: { attachments: Array<{ id: string }> } } }>`
      select payload from messages.outbox
      where type = 'message.created' and payload->'message'->>'id' = ${sent.id}`.execute(handle.db);
    expect(event.rows[0]!.payload.message.attachments.map((a) => a.id)).toEqual([image.id, file.id]);
    expect((await messages.get(member, sent.id)).attachments.map((a) => a.filename)).toEqual([
      "pic.png",
      "notes.txt",
    ]);
    // Each once: attaching again is refused and writes nothing.
    expect(
      await codeOf(messages.send(member, { channelId: channel, content: "again", attachmentIds: [file.id] })),
    ).toBe("BAD_USER_INPUT");
    // Empty content without attachments is still refused.
    expect(await codeOf(messages.send(member, { channelId: channel, content: "" }))).toBe("BAD_USER_INPUT");
  });

  it("refuses someone else's upload, an upload to another channel, duplicates and more than 10", async () => {
    const { owner, member, server, channel } = await community();
    const other = await harness.channels.create(owner, server.id, textChannel("other"));
    await settle();
    const owners = await attachments.upload(owner.userId, {
      channelId: channel,
      filename: "o",
      data: Buffer.from("o"),
    });
    const elsewhere = await attachments.upload(member.userId, {
      channelId: other.id,
      filename: "e",
      data: Buffer.from("e"),
    });
    const mine = await attachments.upload(member.userId, {
      channelId: channel,
      filename: "m",
      data: Buffer.from("m"),
    });
    for (const attachmentIds of [
      [owners.id],
      [elsewhere.id],
      [mine.id, mine.id],
      [mine.id, newId()],
      ["x"],
    ]) {
      expect(await codeOf(messages.send(member, { channelId: channel, content: "hi", attachmentIds }))).toBe(
        "BAD_USER_INPUT",
      );
    }
    expect(
      await codeOf(
        messages.send(member, {
          channelId: channel,
          content: "hi",
          attachmentIds: Array.from({ length: 11 }, () => newId()),
        }),
      ),
    ).toBe("BAD_USER_INPUT");
    expect((await attachmentRows(channel)).every((row) => row.message_id === null)).toBe(true);
    // Concurrent sends of one upload: exactly one wins.
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () =>
        messages.send(member, { channelId: channel, content: "race", attachmentIds: [mine.id] }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });

  it("downloads: members with VIEW_CHANNEL + READ_MESSAGE_HISTORY; NOT_FOUND for strangers, hidden channels and others' pending uploads", async () => {
    const { owner, member, server } = await community();
    const room = await harness.channels.create(owner, server.id, textChannel("room"));
    await settle();
    const up = await attachments.upload(owner.userId, {
      channelId: room.id,
      filename: "r.bin",
      data: Buffer.from("r"),
    });
    expect(await codeOf(attachments.open(member.userId, up.id, false))).toBe("NOT_FOUND");
    expect((await attachments.open(owner.userId, up.id, false)).filename).toBe("r.bin");
    await messages.send(owner, { channelId: room.id, content: "file", attachmentIds: [up.id] });
    expect((await attachments.open(member.userId, up.id, false)).contentType).toBe(
      "application/octet-stream",
    );
    expect(await codeOf(attachments.open(caller().userId, up.id, false))).toBe("NOT_FOUND");
    expect(await codeOf(attachments.open(member.userId, "12345", false))).toBe("NOT_FOUND");
    await harness.channels.setOverwrite(owner, room.id, {
      targetType: "member",
      targetId: member.userId,
      allow: "0",
      deny: String(PERMISSIONS.READ_MESSAGE_HISTORY),
    });
    await settle();
    expect(await codeOf(attachments.open(member.userId, up.id, false))).toBe("NOT_FOUND");
  });
});

describe("deletion and sweeping", () => {
  const event = (type: string, payload: unknown) => ({
    id: newId(),
    type,
    occurredAt: new Date().toISOString(),
    payload,
  });

  it("deleting the message, the channel or the server deletes the attachments' rows and blobs", async () => {
    const { owner, server, channel } = await community();
    const other = await harness.channels.create(owner, server.id, textChannel("other"));
    await settle();
    const upload = async (channelId: string) =>
      attachments.upload(owner.userId, { channelId, filename: "p.png", data: await png(8, 8) });
    const a = await upload(channel);
    const sent = await messages.send(owner, { channelId: channel, content: "a", attachmentIds: [a.id] });
    const keysOf = async (id: string) => (await blobKeys()).filter((key) => key.includes(`/${id}/`));
    expect(await keysOf(a.id)).toHaveLength(2);
    await messages.delete(owner, sent.id);
    await attachments.sweep();
    expect(await keysOf(a.id)).toEqual([]);

    const b = await upload(other.id);
    await messages.send(owner, { channelId: other.id, content: "b", attachmentIds: [b.id] });
    const pendingInOther = await upload(other.id);
    await applyCleanup(
      db,
      new MessagesRepository(),
      event("channel.deleted", { serverId: server.id, channelId: other.id, deletedChannelIds: [other.id] }),
    );
    await attachments.sweep();
    expect(await keysOf(b.id)).toEqual([]);
    expect(await keysOf(pendingInOther.id)).toEqual([]);
    expect(await attachmentRows(other.id)).toEqual([]);

    const c = await upload(channel);
    await messages.send(owner, { channelId: channel, content: "c", attachmentIds: [c.id] });
    await applyCleanup(db, new MessagesRepository(), event("server.deleted", { serverId: server.id }));
    await attachments.sweep();
    expect(await keysOf(c.id)).toEqual([]);
    expect(await attachmentRows(channel)).toEqual([]);
  });

  it("sweeps pending uploads older than the TTL, and keeps attached and fresh ones", async () => {
    const { owner, channel } = await community();
    const old = await attachments.upload(owner.userId, {
      channelId: channel,
      filename: "old",
      data: Buffer.from("1"),
    });
    const fresh = await attachments.upload(owner.userId, {
      channelId: channel,
      filename: "new",
      data: Buffer.from("2"),
    });
    const used = await attachments.upload(owner.userId, {
      channelId: channel,
      filename: "used",
      data: Buffer.from("3"),
    });
    await messages.send(owner, { channelId: channel, content: "x", attachmentIds: [used.id] });
    await sql`update messages.attachments set created_at = now() - interval '2 hours'
      where id in (${old.id}, ${used.id})`.execute(handle.db);
    await attachments.sweep();
    expect((await attachmentRows(channel)).map((row) => row.id)).toEqual([fresh.id, used.id]);
    expect((await blobKeys()).some((key) => key.includes(`/${old.id}/`))).toBe(false);
    expect(
      await codeOf(messages.send(owner, { channelId: channel, content: "late", attachmentIds: [old.id] })),
    ).toBe("BAD_USER_INPUT");
  });
});
