import { expect, it } from "vitest";
import { type AuthorizationFixture, FIXTURE_PNG, stateOf, type User } from "./authorization-fixture.ts";

/** Another valid image than the fixture's, so a replacement that got through would show in the bytes. */
const OTHER_PNG = Buffer.concat([FIXTURE_PNG.subarray(0, 8), Buffer.alloc(32, 7)]);

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
