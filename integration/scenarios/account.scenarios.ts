import { crc32, deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { dataOf, graphql } from "../harness/graphql-client.ts";
import { TEST_MAX_PICTURE_BYTES, type Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const SIGN_IN = `mutation ($input: SignInInput!) { signIn(input: $input) { accessToken refreshToken user { id } } }`;
const REFRESH = `mutation ($input: RefreshSessionInput!) { refreshSession(input: $input) { accessToken refreshToken } }`;
const ME = `{ me { id username customStatus { text emoji expiresAt } pictureUrl bannerUrl } }`;
const CHANGE_USERNAME = `mutation ($input: ChangeUsernameInput!) { changeUsername(input: $input) { user { id username } } }`;
const CHANGE_PASSWORD = `mutation ($input: ChangePasswordInput!) { changePassword(input: $input) { revokedSessionCount } }`;
const SET_STATUS = `mutation ($input: SetCustomStatusInput!) {
  setCustomStatus(input: $input) { user { customStatus { text emoji expiresAt } } } }`;
const CLEAR_STATUS = `mutation { clearCustomStatus { user { customStatus { text } } } }`;
const REMOVE_PICTURE = `mutation ($input: RemovePictureInput!) { removePicture(input: $input) { user { pictureUrl } } }`;
const DELETE_ACCOUNT = `mutation ($input: DeleteAccountInput!) { deleteAccount(input: $input) { deletedUserId } }`;
const EXPORT_ACCOUNT = `mutation { exportAccount { json } }`;

/** A real PNG image of `width`×1 red pixels, encoded here so the test owns every byte. */
export function tinyPng(width = 3): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(1, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3, Buffer.from([255, 0, 0]))]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(row)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

function errorOf(response: { errors?: Array<{ extensions?: Record<string, unknown> }> }) {
  return { code: response.errors?.[0]?.extensions?.code, field: response.errors?.[0]?.extensions?.field };
}

function upload(baseUrl: string, token: string, kind: string, body: BodyInit | Buffer, contentType: string) {
  return fetch(`${baseUrl}/users/me/${kind}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-type": contentType },
    body: body as BodyInit,
    duplex: "half",
  } as RequestInit);
}

/** Username, password, status, pictures, deletion and export (AUTH-8, AUTH-13), in any topology. */
export function defineAccountScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;

  describe("account settings, pictures, deletion and export", () => {
    it("changes the username and refuses one another user holds, in any case", async () => {
      const alice = await signedInUser(url());
      const bob = await signedInUser(url());
      const taken = await graphql(
        url(),
        CHANGE_USERNAME,
        { input: { username: alice.identity.username.toUpperCase() } },
        bob.accessToken,
      );
      expect(errorOf(taken)).toEqual({ code: "CONFLICT", field: "username" });

      const renamed = `${bob.identity.username}_x`;
      const changed = dataOf(
        await graphql<{ changeUsername: { user: { username: string } } }>(
          url(),
          CHANGE_USERNAME,
          { input: { username: renamed } },
          bob.accessToken,
        ),
      );
      expect(changed.changeUsername.user.username).toBe(renamed);
      const me = dataOf(await graphql<{ me: { username: string } }>(url(), ME, {}, bob.accessToken));
      expect(me.me.username).toBe(renamed);
    });

    it("changes the password: the old one fails, the new one works, other sessions end, this one stays", async () => {
      const user = await signedInUser(url());
      const other = dataOf(
        await graphql<{ signIn: { refreshToken: string } }>(url(), SIGN_IN, {
          input: { email: user.identity.email, password: user.identity.password },
        }),
      ).signIn;
      const wrong = await graphql(
        url(),
        CHANGE_PASSWORD,
        { input: { currentPassword: "not my password", newPassword: "a whole new pass phrase" } },
        user.accessToken,
      );
      expect(errorOf(wrong)).toEqual({ code: "UNAUTHENTICATED", field: "currentPassword" });

      const newPassword = `${user.identity.password} v2`;
      const changed = dataOf(
        await graphql<{ changePassword: { revokedSessionCount: number } }>(
          url(),
          CHANGE_PASSWORD,
          { input: { currentPassword: user.identity.password, newPassword } },
          user.accessToken,
        ),
      );
      expect(changed.changePassword.revokedSessionCount).toBe(1);

      const oldSignIn = await graphql(url(), SIGN_IN, {
        input: { email: user.identity.email, password: user.identity.password },
      });
      expect(errorOf(oldSignIn).code).toBe("UNAUTHENTICATED");
      dataOf(await graphql(url(), SIGN_IN, { input: { email: user.identity.email, password: newPassword } }));

      const otherRefresh = await graphql(url(), REFRESH, { input: { refreshToken: other.refreshToken } });
      expect(errorOf(otherRefresh).code).toBe("UNAUTHENTICATED");
      dataOf(await graphql(url(), ME, {}, user.accessToken));
      dataOf(await graphql(url(), REFRESH, { input: { refreshToken: user.refreshToken } }));
    });

    it("shows the custom status on me until it is cleared", async () => {
      const user = await signedInUser(url());
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      dataOf(
        await graphql(
          url(),
          SET_STATUS,
          { input: { text: "Deep work", emoji: "🎧", expiresAt } },
          user.accessToken,
        ),
      );
      const me = dataOf(await graphql<{ me: { customStatus: unknown } }>(url(), ME, {}, user.accessToken)).me;
      expect(me.customStatus).toEqual({ text: "Deep work", emoji: "🎧", expiresAt });
      const tooLong = await graphql(
        url(),
        SET_STATUS,
        { input: { text: "x".repeat(129) } },
        user.accessToken,
      );
      expect(errorOf(tooLong)).toEqual({ code: "BAD_USER_INPUT", field: "text" });
      const cleared = dataOf(
        await graphql<{ clearCustomStatus: { user: { customStatus: unknown } } }>(
          url(),
          CLEAR_STATUS,
          {},
          user.accessToken,
        ),
      );
      expect(cleared.clearCustomStatus.user.customStatus).toBeNull();
    });

    it("uploads a PNG that another user reads back byte for byte, and refuses fakes and oversize bodies", async () => {
      const owner = await signedInUser(url());
      const viewer = await signedInUser(url());
      const png = tinyPng();
      const put = await upload(url(), owner.accessToken, "picture", png, "image/png");
      expect(put.status).toBe(200);
      const { url: picturePath } = (await put.json()) as { url: string };
      const me = dataOf(
        await graphql<{ me: { pictureUrl: string; bannerUrl: string | null } }>(
          url(),
          ME,
          {},
          owner.accessToken,
        ),
      ).me;
      expect(me.pictureUrl).toBe(picturePath);
      expect(me.bannerUrl).toBeNull();

      const got = await fetch(`${url()}${picturePath}`, {
        headers: { authorization: `Bearer ${viewer.accessToken}` },
      });
      expect(got.status).toBe(200);
      expect(got.headers.get("content-type")).toBe("image/png");
      expect(got.headers.get("x-content-type-options")).toBe("nosniff");
      expect(got.headers.get("cache-control")).toContain("max-age");
      expect(Buffer.compare(Buffer.from(await got.arrayBuffer()), png)).toBe(0);
      expect((await fetch(`${url()}${picturePath}`)).status).toBe(401);
      const noBanner = await fetch(`${url()}/users/${owner.user.id}/banner`, {
        headers: { authorization: `Bearer ${viewer.accessToken}` },
      });
      expect(noBanner.status).toBe(404);

      const fake = await upload(url(), owner.accessToken, "banner", "just some text, honest", "image/png");
      expect(fake.status).toBe(400);
      expect(((await fake.json()) as { error: { code: string } }).error.code).toBe("BAD_USER_INPUT");

      const tooBig = Buffer.concat([png, Buffer.alloc(TEST_MAX_PICTURE_BYTES)]);
      const declared = await upload(url(), owner.accessToken, "banner", tooBig, "image/png");
      expect(declared.status).toBe(413);
      // Streamed without a length: the edge stops reading past the limit.
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let sent = 0; sent <= TEST_MAX_PICTURE_BYTES * 2; sent += 16_384) {
            controller.enqueue(new Uint8Array(16_384));
          }
          controller.close();
        },
      });
      const streamed = await upload(url(), owner.accessToken, "banner", stream, "image/png");
      expect(streamed.status).toBe(413);

      const removed = dataOf(
        await graphql<{ removePicture: { user: { pictureUrl: string | null } } }>(
          url(),
          REMOVE_PICTURE,
          { input: { kind: "PICTURE" } },
          owner.accessToken,
        ),
      );
      expect(removed.removePicture.user.pictureUrl).toBeNull();
      const gone = await fetch(`${url()}${picturePath}`, {
        headers: { authorization: `Bearer ${viewer.accessToken}` },
      });
      expect(gone.status).toBe(404);
    });

    it("deletes the account only with the right password; then its token and password stop working", async () => {
      const user = await signedInUser(url());
      const wrong = await graphql(
        url(),
        DELETE_ACCOUNT,
        { input: { password: "not the password" } },
        user.accessToken,
      );
      expect(errorOf(wrong)).toEqual({ code: "UNAUTHENTICATED", field: "password" });
      dataOf(await graphql(url(), ME, {}, user.accessToken));

      const deleted = dataOf(
        await graphql<{ deleteAccount: { deletedUserId: string } }>(
          url(),
          DELETE_ACCOUNT,
          { input: { password: user.identity.password } },
          user.accessToken,
        ),
      );
      expect(deleted.deleteAccount.deletedUserId).toBe(user.user.id);
      expect(errorOf(await graphql(url(), ME, {}, user.accessToken)).code).toBe("UNAUTHENTICATED");
      const signIn = await graphql(url(), SIGN_IN, {
        input: { email: user.identity.email, password: user.identity.password },
      });
      expect(errorOf(signIn).code).toBe("UNAUTHENTICATED");
    });

    it("exports the profile and sessions without passwords, hashes or tokens", async () => {
      const user = await signedInUser(url());
      const { exportAccount } = dataOf(
        await graphql<{ exportAccount: { json: string } }>(url(), EXPORT_ACCOUNT, {}, user.accessToken),
      );
      const document = JSON.parse(exportAccount.json) as {
        profile: { id: string; email: string };
        sessions: Array<{ current: boolean }>;
      };
      expect(document.profile).toMatchObject({ id: user.user.id, email: user.identity.email });
      expect(document.sessions).toHaveLength(1);
      expect(document.sessions[0]?.current).toBe(true);
      const keys = [...exportAccount.json.matchAll(/"([^"]+)":/g)].map((match) => match[1]);
      expect(keys.filter((key) => /password|hash|token/i.test(key ?? ""))).toEqual([]);
      expect(exportAccount.json).not.toContain(user.identity.password);
      expect(exportAccount.json).not.toContain(user.refreshToken);
    });
  });
}
