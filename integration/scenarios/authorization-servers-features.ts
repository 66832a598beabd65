import { expect, it } from "vitest";
import { type AuthorizationFixture, FIXTURE_PNG, stateOf, type User } from "./authorization-fixture.ts";

/** Another valid image than the fixture's, so a replacement that got through would show in the bytes. */
const OTHER_PNG = Buffer.concat([FIXTURE_PNG.subarray(0, 8), Buffer.alloc(32, 7)]);

/**
 * The servers features' entries of the matrix are only as good as the state probe: each mutation must
 * change something it reads. This checks the fixture is in a state where each would: the server has a
 * picture and banner (removeServerPicture), lobby is unsynced from its folder (syncChannelPermissions),
 * the invitee holds a pending in-app invite (sendServerInvite replaces it, declineInvite removes it).
 */
export function defineServersFeaturesProbeCheck(fixture: () => AuthorizationFixture): void {
  it("the state probe reads what the servers features' mutations would change", async () => {
    const f = fixture();
    const { server, pendingInvites } = await stateOf(f);
    const fields = server.server as unknown as {
      pictureUrl: string | null;
      bannerUrl: string | null;
      channels: Array<{ id: string; permissionsSynced: boolean }>;
    };
    expect(fields.pictureUrl).toMatch(/\/picture\?v=/);
    expect(fields.bannerUrl).toMatch(/\/banner\?v=/);
    expect(fields.channels.find((channel) => channel.id === f.lobbyId)?.permissionsSynced).toBe(false);
    expect(pendingInvites.invitee).toEqual([
      expect.objectContaining({ code: f.inAppCode, serverId: f.serverId }),
    ]);
    expect(pendingInvites.stranger).toEqual([]);
  });
}

/**
 * The REST half of the matrix: `PUT` and `DELETE /servers/:id/picture|banner` (MANAGE_GUILD) are 404 to
 * a stranger and 403 to a plain member, with the error code in the body; the server keeps its picture
 * and banner (same URLs, same bytes) and nothing else of the state moves. Defined inside the matrix's
 * describe, on its fixture.
 */
export function defineServerPictureRouteRefusals(fixture: () => AuthorizationFixture): void {
  it("PUT/DELETE /servers/:id/picture|banner: 404 to a stranger, 403 to a member; nothing stored or removed", async () => {
    const f = fixture();
    const bytes = async (kind: string) => {
      const got = await fetch(`${f.url}/servers/${f.serverId}/${kind}`, {
        headers: { authorization: `Bearer ${f.owner.accessToken}` },
      });
      expect(got.status).toBe(200);
      return Buffer.from(await got.arrayBuffer());
    };
    const before = await stateOf(f);
    const imagesBefore = { picture: await bytes("picture"), banner: await bytes("banner") };
    const send = (who: User, method: "PUT" | "DELETE", kind: string) =>
      fetch(`${f.url}/servers/${f.serverId}/${kind}`, {
        method,
        headers: {
          authorization: `Bearer ${who.accessToken}`,
          ...(method === "PUT" && { "content-type": "image/png" }),
        },
        ...(method === "PUT" && { body: OTHER_PNG as unknown as BodyInit }),
      });
    const outcomes: Record<string, unknown> = {};
    const expected: Record<string, unknown> = {};
    for (const [actor, who, status, code] of [
      ["stranger", f.stranger, 404, "NOT_FOUND"],
      ["member", f.member, 403, "FORBIDDEN"],
      ["banned", f.banned, 404, "NOT_FOUND"],
    ] as const) {
      for (const method of ["PUT", "DELETE"] as const) {
        for (const kind of ["picture", "banner"]) {
          const response = await send(who, method, kind);
          const body = (await response.json()) as { error?: { code?: string } };
          const name = `${method} ${kind} as ${actor}`;
          outcomes[name] = { status: response.status, code: body.error?.code };
          expected[name] = { status, code };
        }
      }
    }
    expect(outcomes).toEqual(expected);
    expect(await stateOf(f)).toEqual(before);
    expect({ picture: await bytes("picture"), banner: await bytes("banner") }).toEqual(imagesBefore);
  });
}
