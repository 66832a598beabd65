import { readdirSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { dataOf, type GraphqlResponse, graphql } from "../harness/graphql-client.ts";
import { TEST_MAX_ATTACHMENT_BYTES, type Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const VIEW_CHANNEL = 1n << 10n;

const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id channels { id } } } }`;
const JOIN = `mutation ($input: ServerIdInput!) { joinServer(input: $input) { server { id } } }`;
const SET_OVERWRITE = `mutation ($input: SetChannelOverwriteInput!) { setChannelOverwrite(input: $input) { channel { id } } }`;
const ATTACHMENT_FIELDS = "id filename contentType size width height url thumbnailUrl";
const SEND = `mutation ($input: SendMessageInput!) {
  sendMessage(input: $input) { message { id content attachments { ${ATTACHMENT_FIELDS} } } } }`;
const DELETE = `mutation ($input: MessageIdInput!) { deleteMessage(input: $input) { messageId } }`;
const MESSAGE = `query ($id: ID!) { message(id: $id) { id attachments { ${ATTACHMENT_FIELDS} } } }`;

interface AttachmentData {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  width: number | null;
  height: number | null;
  url: string;
  thumbnailUrl: string | null;
}

const codeOf = (response: GraphqlResponse<unknown>) => response.errors?.[0]?.extensions?.code;

/** Every file under the deployment's blob store below `attachments/`. */
function storedAttachmentFiles(blobDir: string): string[] {
  try {
    return readdirSync(join(blobDir, "attachments"), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name));
  } catch {
    return [];
  }
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Message attachments (MSG-8) through the gateway's REST edge and GraphQL, in any topology. */
export function defineAttachmentsScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;

  async function community() {
    const owner = await signedInUser(url());
    const member = await signedInUser(url());
    const { createServer } = dataOf(
      await graphql<{ createServer: { server: { id: string; channels: Array<{ id: string }> } } }>(
        url(),
        CREATE_SERVER,
        { input: { name: "Attachments", public: true } },
        owner.accessToken,
      ),
    );
    dataOf(await graphql(url(), JOIN, { input: { serverId: createServer.server.id } }, member.accessToken));
    return { owner, member, serverId: createServer.server.id, general: createServer.server.channels[0]!.id };
  }

  const upload = (token: string, channelId: string, filename: string, body: BodyInit | Buffer) =>
    fetch(
      `${url()}/attachments?channelId=${encodeURIComponent(channelId)}&filename=${encodeURIComponent(filename)}`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
        body: body as BodyInit,
        duplex: "half",
      } as RequestInit,
    );
  const download = (token: string | undefined, path: string) =>
    fetch(`${url()}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  describe("attachments", () => {
    it("uploads an image, sends it, reads dimensions and thumbnail, downloads as a member, 404 for others", async () => {
      const { owner, member, serverId, general } = await community();
      const image = await sharp({ create: { width: 900, height: 300, channels: 3, background: "#ff8800" } })
        .png()
        .toBuffer();
      const posted = await upload(member.accessToken, general, "sunset.png", image);
      expect(posted.status).toBe(201);
      const pending = (await posted.json()) as AttachmentData;
      expect(pending).toMatchObject({
        filename: "sunset.png",
        contentType: "image/png",
        width: 900,
        height: 300,
      });

      const sent = dataOf(
        await graphql<{
          sendMessage: { message: { id: string; content: string; attachments: AttachmentData[] } };
        }>(
          url(),
          SEND,
          { input: { channelId: general, content: "", attachmentIds: [pending.id] } },
          member.accessToken,
        ),
      ).sendMessage.message;
      expect(sent.content).toBe("");
      const [attachment] = sent.attachments;
      expect(attachment).toEqual({
        id: pending.id,
        filename: "sunset.png",
        contentType: "image/png",
        size: image.length,
        width: 900,
        height: 300,
        url: `/attachments/${pending.id}/sunset.png`,
        thumbnailUrl: `/attachments/${pending.id}/thumbnail/sunset.png`,
      });
      const read = dataOf(
        await graphql<{ message: { attachments: AttachmentData[] } }>(
          url(),
          MESSAGE,
          { id: sent.id },
          owner.accessToken,
        ),
      );
      expect(read.message.attachments).toEqual(sent.attachments);

      const got = await download(owner.accessToken, attachment!.url);
      expect(got.status).toBe(200);
      expect(got.headers.get("content-type")).toBe("image/png");
      expect(got.headers.get("x-content-type-options")).toBe("nosniff");
      expect(got.headers.get("content-security-policy")).toContain("default-src 'none'");
      expect(Buffer.compare(Buffer.from(await got.arrayBuffer()), image)).toBe(0);
      const thumb = await download(owner.accessToken, attachment!.thumbnailUrl!);
      expect(thumb.status).toBe(200);
      expect(thumb.headers.get("content-type")).toBe("image/webp");
      const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(["webp", 400, 133]);

      // A non-image is served as a download, never inline.
      const text = await upload(member.accessToken, general, "notes.html", "<script>alert(1)</script>");
      const file = (await text.json()) as AttachmentData;
      expect(file).toMatchObject({
        contentType: "application/octet-stream",
        width: null,
        thumbnailUrl: null,
      });
      dataOf(
        await graphql(
          url(),
          SEND,
          { input: { channelId: general, content: "notes", attachmentIds: [file.id] } },
          member.accessToken,
        ),
      );
      const fileGot = await download(owner.accessToken, file.url);
      expect(fileGot.headers.get("content-type")).toBe("application/octet-stream");
      expect(fileGot.headers.get("content-disposition")).toMatch(/^attachment; filename="notes.html"/);

      // A stranger, a signed-out caller and a member without VIEW_CHANNEL see nothing.
      const stranger = await signedInUser(url());
      expect((await download(stranger.accessToken, attachment!.url)).status).toBe(404);
      expect((await download(stranger.accessToken, attachment!.thumbnailUrl!)).status).toBe(404);
      expect((await download(undefined, attachment!.url)).status).toBe(401);
      dataOf(
        await graphql(
          url(),
          SET_OVERWRITE,
          {
            input: {
              channelId: general,
              targetType: "MEMBER",
              targetId: member.user.id,
              deny: String(VIEW_CHANNEL),
            },
          },
          owner.accessToken,
        ),
      );
      await eventually(async () => (await download(member.accessToken, attachment!.url)).status === 404);
      expect((await download(member.accessToken, attachment!.thumbnailUrl!)).status).toBe(404);
      expect(serverId).toBeTruthy();
    });

    it("refuses an oversize upload with 413 storing nothing, and someone else's upload on send", async () => {
      const { owner, member, general } = await community();
      const before = storedAttachmentFiles(topology().blobDir).length;
      const declared = await upload(
        member.accessToken,
        general,
        "big.bin",
        Buffer.alloc(TEST_MAX_ATTACHMENT_BYTES + 1),
      );
      expect(declared.status).toBe(413);
      expect(((await declared.json()) as { error: { code: string } }).error.code).toBe("LIMIT_EXCEEDED");
      // Streamed without a length: the edge stops reading past the limit.
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let sent = 0; sent <= TEST_MAX_ATTACHMENT_BYTES * 2; sent += 16_384) {
            controller.enqueue(new Uint8Array(16_384));
          }
          controller.close();
        },
      });
      expect((await upload(member.accessToken, general, "big.bin", stream)).status).toBe(413);
      expect(storedAttachmentFiles(topology().blobDir).length).toBe(before);

      // Not a member: NOT_FOUND before any byte is stored.
      const stranger = await signedInUser(url());
      expect((await upload(stranger.accessToken, general, "x.txt", "x")).status).toBe(404);
      expect(storedAttachmentFiles(topology().blobDir).length).toBe(before);

      const owners = (await (
        await upload(owner.accessToken, general, "owner.txt", "mine")
      ).json()) as AttachmentData;
      const refused = await graphql(
        url(),
        SEND,
        { input: { channelId: general, content: "stolen", attachmentIds: [owners.id] } },
        member.accessToken,
      );
      expect(codeOf(refused)).toBe("BAD_USER_INPUT");
      expect(refused.errors?.[0]?.extensions?.field).toBe("attachmentIds");
      // Pending uploads are the uploader's alone.
      expect((await download(member.accessToken, owners.url)).status).toBe(404);
      expect((await download(owner.accessToken, owners.url)).status).toBe(200);

      // Deleting the message deletes its blobs.
      const sent = dataOf(
        await graphql<{ sendMessage: { message: { id: string } } }>(
          url(),
          SEND,
          { input: { channelId: general, content: "mine", attachmentIds: [owners.id] } },
          owner.accessToken,
        ),
      ).sendMessage.message;
      const ownFiles = () => storedAttachmentFiles(topology().blobDir).filter((f) => f.includes(owners.id));
      expect(ownFiles().length).toBe(1);
      dataOf(await graphql(url(), DELETE, { input: { messageId: sent.id } }, owner.accessToken));
      await eventually(async () => ownFiles().length === 0);
      expect((await download(owner.accessToken, owners.url)).status).toBe(404);
    });
  });
}
