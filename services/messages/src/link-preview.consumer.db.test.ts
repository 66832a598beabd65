import http from "node:http";
import type { AddressInfo } from "node:net";
import type { BusEvent } from "@beep/bus";
import { openTestSchema, type TestSchema } from "@beep/db";
import { newId } from "@beep/ids";
import type { fetchLinkPreview } from "@beep/link-preview";
import { createLogger } from "@beep/observability";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LinkPreviewer, type LinkPreviewSettings } from "./link-preview.consumer.ts";
import { messageView } from "./message-views.ts";
import type { MessageRow } from "./messages.repository.ts";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import type { MessagesTables } from "./messages.tables.ts";
import { messagesMigrations } from "./migrations/index.ts";

const logger = createLogger({ service: "link-preview-test", level: "silent" });

let testSchema: TestSchema<MessagesTables>;
let page: { server: http.Server; origin: string; hits: string[] };
let trap: { server: http.Server; origin: string; hits: string[] } | undefined;

const OG_PAGE = `<!doctype html><html><head>
<meta property="og:title" content="Release notes">
<meta property="og:description" content="What changed">
<meta property="og:site_name" content="Beep Blog">
<meta property="og:image" content="/cover.png">
<meta property="og:image:width" content="1200"><meta property="og:image:height" content="630">
</head><body>hi</body></html>`;

async function serve(host: string) {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? "");
    if (req.url?.startsWith("/missing")) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(OG_PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, origin: `http://${host}:${(server.address() as AddressInfo).port}`, hits };
}

function settings(port: number, overrides: Partial<LinkPreviewSettings> = {}): LinkPreviewSettings {
  return {
    enabled: true,
    timeoutMs: 3000,
    maxBytes: 64 * 1024,
    maxPerMessage: 5,
    concurrency: 4,
    // Both local servers' ports are allowed, so only the address rule can refuse the trap.
    allowedPorts: [80, 443, port, ...(trap ? [Number(new URL(trap.origin).port)] : [])],
    oembedEndpoints: {},
    allowPrivateAddressesForTests: ["127.0.0.1"],
    ...overrides,
  };
}

beforeAll(async () => {
  testSchema = await openTestSchema<MessagesTables>({
    schema: MESSAGES_SCHEMA,
    migrations: messagesMigrations,
    logger,
    poolSize: 4,
  });
  page = await serve("127.0.0.1");
  // 127.0.0.2 is loopback too, but NOT in the allow-list: nothing may reach it.
  trap = await serve("127.0.0.2");
}, 60_000);

afterAll(async () => {
  for (const s of [page?.server, trap?.server]) {
    s?.closeAllConnections();
    await new Promise((resolve) => (s ? s.close(resolve) : resolve(undefined)));
  }
  await testSchema?.close();
});

const db = () => testSchema.db;

async function insert(content: string): Promise<MessageRow> {
  const result = await sql<MessageRow>`
    insert into messages.messages (id, server_id, channel_id, author_id, content)
    values (${newId()}::bigint, ${newId()}::bigint, ${newId()}::bigint, ${newId()}::bigint, ${content})
    returning *`.execute(db());
  return result.rows[0]!;
}

async function row(id: string): Promise<MessageRow> {
  const result = await sql<MessageRow>`select * from messages.messages where id = ${id}::bigint`.execute(
    db(),
  );
  return result.rows[0]!;
}

function event(type: string, message: MessageRow): BusEvent {
  return {
    id: newId(),
    type,
    occurredAt: new Date().toISOString(),
    payload: { serverId: message.server_id, channelId: message.channel_id, message: messageView(message) },
  };
}

async function updates(messageId: string): Promise<Array<{ message: { embeds: unknown[] } }>> {
  const result = await sql<{ payload: { message: { embeds: unknown[] } } }>`
    select payload from messages.outbox
    where type = 'message.updated' and payload->'message'->>'id' = ${messageId} order by id`.execute(db());
  return result.rows.map((r) => r.payload);
}

describe("link preview consumer", () => {
  it("stores the OpenGraph preview as an embed and emits message.updated once (inbox, own update, redelivery)", async () => {
    const previewer = new LinkPreviewer({
      db: db(),
      settings: settings(Number(new URL(page.origin).port)),
      logger,
    });
    const message = await insert(`look ${page.origin}/post`);
    const created = event("message.created", message);
    expect(await previewer.apply(created)).toBe(true);
    const stored = await row(message.id);
    expect(stored.embeds).toEqual([
      {
        url: `${page.origin}/post`,
        type: "link",
        siteName: "Beep Blog",
        title: "Release notes",
        description: "What changed",
        providerName: "127.0.0.1",
        image: { url: `${page.origin}/cover.png`, width: 1200, height: 630 },
      },
    ]);
    const emitted = await updates(message.id);
    expect(emitted).toHaveLength(1);
    expect(emitted[0]!.message.embeds).toEqual(stored.embeds);
    const hits = page.hits.length;
    // Redelivery of the same event, and our own message.updated: no fetch, no new event.
    expect(await previewer.apply(created)).toBe(false);
    expect(await previewer.apply(event("message.updated", stored))).toBe(false);
    expect(page.hits.length).toBe(hits);
    expect(await updates(message.id)).toHaveLength(1);
  });

  it("an edit that changes the links previews again; one that removes them clears the embeds; stale events do nothing", async () => {
    const previewer = new LinkPreviewer({
      db: db(),
      settings: settings(Number(new URL(page.origin).port)),
      logger,
    });
    const message = await insert(`first ${page.origin}/a`);
    const created = event("message.created", message);
    // The message is edited before the created event is handled: the stale event does nothing.
    await sql`update messages.messages set content = ${`second ${page.origin}/b`}, edited_at = now()
      where id = ${message.id}::bigint`.execute(db());
    expect(await previewer.apply(created)).toBe(false);
    const edited = await row(message.id);
    expect(await previewer.apply(event("message.updated", edited))).toBe(true);
    expect((await row(message.id)).embeds).toMatchObject([{ url: `${page.origin}/b` }]);
    await sql`update messages.messages set content = 'no links now', edited_at = now()
      where id = ${message.id}::bigint`.execute(db());
    expect(await previewer.apply(event("message.updated", await row(message.id)))).toBe(true);
    expect((await row(message.id)).embeds).toEqual([]);
    expect((await updates(message.id)).map((u) => u.message.embeds.length)).toEqual([1, 0]);
  });

  it("a failing fetch or a private address outside the test allow-list leaves no embed and no event", async () => {
    const port = Number(new URL(page.origin).port);
    const previewer = new LinkPreviewer({ db: db(), settings: settings(port), logger });
    const targets = [`${page.origin}/missing`, "http://10.255.255.1/x", `http://127.0.0.2:${port}/x`];
    targets.push(`${trap!.origin}/secret`);
    const message = await insert(`bad links ${targets.join(" ")}`);
    expect(await previewer.apply(event("message.created", message))).toBe(false);
    expect((await row(message.id)).embeds).toEqual([]);
    expect(await updates(message.id)).toEqual([]);
    expect(trap!.hits).toEqual([]);
  });

  it("fetches at most `concurrency` URLs at once and at most maxPerMessage per message", async () => {
    let active = 0;
    let peak = 0;
    const fetched: string[] = [];
    const slow: typeof fetchLinkPreview = async (url) => {
      fetched.push(url);
      active += 1;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setTimeout(resolve, 30));
      active -= 1;
      return null;
    };
    const previewer = new LinkPreviewer({
      db: db(),
      settings: settings(80, { concurrency: 2, maxPerMessage: 3 }),
      logger,
      fetchPreview: slow,
    });
    const messages = await Promise.all(
      [0, 1, 2].map((i) =>
        insert(`https://a${i}.example/ https://b${i}.example/ https://c${i}.example/ https://d${i}.example/`),
      ),
    );
    await Promise.all(messages.map((m) => previewer.apply(event("message.created", m))));
    expect(peak).toBe(2);
    expect(fetched).toHaveLength(9);
    expect(fetched.some((url) => url.includes("d0."))).toBe(false);
  });

  it("does nothing when disabled, and never queries for a message without links", async () => {
    const message = await insert(`off ${page.origin}/off`);
    const off = new LinkPreviewer({ db: db(), settings: settings(80, { enabled: false }), logger });
    expect(await off.apply(event("message.created", message))).toBe(false);
    expect((await row(message.id)).embeds).toEqual([]);
  });
});
