import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataOf, graphql } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id channels { id } } } }`;
const SEND = `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { message { id embeds { url } } } }`;
const EMBEDS = `query ($id: ID!) { message(id: $id) { id embeds {
  url type siteName title description providerName authorName color
  image { url width height } video { url width height } } } }`;

const OG_PAGE = `<!doctype html><html><head>
<meta property="og:title" content="Beep launch">
<meta property="og:description" content="Chat, but fast">
<meta property="og:site_name" content="Beep">
<meta property="og:image" content="/cover.png"><meta property="og:image:width" content="800">
<meta property="og:image:height" content="400"><meta name="theme-color" content="#336699">
</head><body></body></html>`;

interface LocalSite {
  origin: string;
  hits: string[];
  close(): Promise<void>;
}

async function site(host: string, port: number): Promise<LocalSite> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? "");
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(OG_PAGE);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  return {
    origin: `http://${host}:${port}`,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Link previews (MSG-7) end to end: the messages process fetches a local page after the send. */
export function defineLinkPreviewScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;

  describe("link previews", () => {
    let page: LocalSite;
    let trap: LocalSite;
    beforeAll(async () => {
      // The topology allows 127.0.0.1 on this port for previews; 127.0.0.2 (same port) stays forbidden.
      page = await site("127.0.0.1", topology().linkPreviewPort);
      trap = await site("127.0.0.2", topology().linkPreviewPort);
    });
    afterAll(async () => {
      await page?.close();
      await trap?.close();
    });

    it("a sent link gets its OpenGraph preview as an embed; a private address outside the allowance gets none and no request", async () => {
      const owner = await signedInUser(url());
      const { createServer } = dataOf(
        await graphql<{ createServer: { server: { id: string; channels: Array<{ id: string }> } } }>(
          url(),
          CREATE_SERVER,
          { input: { name: "Previews", public: false } },
          owner.accessToken,
        ),
      );
      const channelId = createServer.server.channels[0]!.id;
      const send = async (content: string) =>
        dataOf(
          await graphql<{ sendMessage: { message: { id: string; embeds: unknown[] } } }>(
            url(),
            SEND,
            { input: { channelId, content } },
            owner.accessToken,
          ),
        ).sendMessage.message;
      const embedsOf = async (id: string) =>
        dataOf(await graphql<{ message: { embeds: unknown[] } }>(url(), EMBEDS, { id }, owner.accessToken))
          .message.embeds;

      const good = await send(`launch post: ${page.origin}/launch`);
      // The send does not wait for the preview.
      expect(good.embeds).toEqual([]);
      const bad = await send(`${trap.origin}/internal and http://10.255.255.1/admin`);

      let embeds: unknown[] = [];
      for (let attempt = 0; attempt < 100 && embeds.length === 0; attempt += 1) {
        await sleep(100);
        embeds = await embedsOf(good.id);
      }
      expect(embeds).toEqual([
        {
          url: `${page.origin}/launch`,
          type: "link",
          siteName: "Beep",
          title: "Beep launch",
          description: "Chat, but fast",
          providerName: "127.0.0.1",
          authorName: null,
          color: "#336699",
          image: { url: `${page.origin}/cover.png`, width: 800, height: 400 },
          video: null,
        },
      ]);
      expect(page.hits).toEqual(["/launch"]);
      // The refused message was handled before or around the good one (same consumer); give it time anyway.
      await sleep(500);
      expect(await embedsOf(bad.id)).toEqual([]);
      expect(trap.hits).toEqual([]);
    });
  });
}
