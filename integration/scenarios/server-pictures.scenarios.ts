import { describe, expect, it } from "vitest";
import { dataOf, graphql } from "../harness/graphql-client.ts";
import { TEST_MAX_PICTURE_BYTES, type Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id pictureUrl bannerUrl } } }`;
const JOIN = `mutation ($input: ServerIdInput!) { joinServer(input: $input) { server { id } } }`;
const SERVER = `query ($id: ID!) { server(id: $id) { pictureUrl bannerUrl } }`;
const REMOVE = `mutation ($input: RemoveServerPictureInput!) { removeServerPicture(input: $input) { server { pictureUrl bannerUrl } } }`;
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(64, 9),
]);

/** A server's picture and banner (SRV-1) through the /servers/ edge and GraphQL, in every topology. */
export function defineServerPicturesScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;
  const put = (path: string, token: string, body: Buffer, contentType: string) =>
    fetch(`${url()}${path}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": contentType },
      body: body as unknown as BodyInit,
    });

  describe("server pictures", () => {
    it("the owner uploads a picture and banner, members read them, others cannot change them, removal works", async () => {
      const owner = await signedInUser(url());
      const member = await signedInUser(url());
      const server = dataOf(
        await graphql<{ createServer: { server: { id: string; pictureUrl: string | null } } }>(
          url(),
          CREATE_SERVER,
          { input: { name: "Gallery", public: true } },
          owner.accessToken,
        ),
      ).createServer.server;
      expect(server.pictureUrl).toBeNull();
      dataOf(await graphql(url(), JOIN, { input: { serverId: server.id } }, member.accessToken));

      const uploaded = await put(`/servers/${server.id}/picture`, owner.accessToken, PNG, "image/png");
      expect(uploaded.status).toBe(200);
      const { url: picturePath } = (await uploaded.json()) as { url: string };
      expect(picturePath).toMatch(new RegExp(`^/servers/${server.id}/picture\\?v=\\d+$`));
      expect((await put(`/servers/${server.id}/banner`, owner.accessToken, PNG, "image/png")).status).toBe(
        200,
      );
      const shown = dataOf(
        await graphql<{ server: { pictureUrl: string; bannerUrl: string } }>(
          url(),
          SERVER,
          { id: server.id },
          member.accessToken,
        ),
      ).server;
      expect(shown.pictureUrl).toBe(picturePath);
      expect(shown.bannerUrl).toMatch(/\/banner\?v=/);

      const got = await fetch(`${url()}${picturePath}`, {
        headers: { authorization: `Bearer ${member.accessToken}` },
      });
      expect(got.status).toBe(200);
      expect(got.headers.get("content-type")).toBe("image/png");
      expect(Buffer.compare(Buffer.from(await got.arrayBuffer()), PNG)).toBe(0);
      expect((await fetch(`${url()}${picturePath}`)).status).toBe(401);

      // Not an image, too large, or no MANAGE_GUILD: refused, nothing changes.
      const html = await put(
        `/servers/${server.id}/picture`,
        owner.accessToken,
        Buffer.from("<html>"),
        "image/png",
      );
      expect(html.status).toBe(400);
      const big = Buffer.concat([PNG, Buffer.alloc(TEST_MAX_PICTURE_BYTES)]);
      expect((await put(`/servers/${server.id}/picture`, owner.accessToken, big, "image/png")).status).toBe(
        413,
      );
      const forbidden = await put(`/servers/${server.id}/picture`, member.accessToken, PNG, "image/png");
      expect(forbidden.status).toBe(403);
      expect(((await forbidden.json()) as { error: { code: string } }).error.code).toBe("FORBIDDEN");
      const again = dataOf(
        await graphql<{ server: { pictureUrl: string } }>(
          url(),
          SERVER,
          { id: server.id },
          owner.accessToken,
        ),
      );
      expect(again.server.pictureUrl).toBe(picturePath);

      const denied = await graphql(
        url(),
        REMOVE,
        { input: { serverId: server.id, kind: "PICTURE" } },
        member.accessToken,
      );
      expect(denied.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      const removed = dataOf(
        await graphql<{
          removeServerPicture: { server: { pictureUrl: string | null; bannerUrl: string | null } };
        }>(url(), REMOVE, { input: { serverId: server.id, kind: "PICTURE" } }, owner.accessToken),
      ).removeServerPicture.server;
      expect(removed.pictureUrl).toBeNull();
      expect(removed.bannerUrl).not.toBeNull();
      const gone = await fetch(`${url()}${picturePath}`, {
        headers: { authorization: `Bearer ${owner.accessToken}` },
      });
      expect(gone.status).toBe(404);
    });
  });
}
