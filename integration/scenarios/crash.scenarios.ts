import { describe, expect, it } from "vitest";
import { collect, dataOf, graphql, wsClient } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const UPDATE_PROFILE = `mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { user { bio } } }`;
const MY_EVENTS = `subscription { myEvents { ... on UserUpdated { user { bio } } } }`;

/** Kills the users process mid-traffic and checks that no acknowledged change or its event is lost. */
export function defineCrashScenarios(topology: () => Topology): void {
  describe("crash safety", () => {
    it("after kill -9 of users during updates, every acknowledged update's event still arrives", async () => {
      const url = topology().gatewayUrl;
      const users = topology().processes.get("users");
      if (!users) throw new Error("split topology has a users process");
      const user = await signedInUser(url);
      const watcher = wsClient(url, user.accessToken);
      const stream = collect<{ myEvents: { user: { bio: string } } }>(watcher.client, MY_EVENTS);
      await new Promise((resolve) => setTimeout(resolve, 300));

      const acknowledged: string[] = [];
      const sends = Array.from({ length: 40 }, async (_, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * 5));
        const response = await graphql(
          url,
          UPDATE_PROFILE,
          { input: { bio: `bio ${i}` } },
          user.accessToken,
        ).catch(() => undefined);
        if (response?.data) acknowledged.push(`bio ${i}`);
      });
      await new Promise((resolve) => setTimeout(resolve, 60));
      await users.stop("SIGKILL");
      await Promise.all(sends);
      await users.start();

      try {
        const finalAck = "after restart";
        dataOf(await graphql(url, UPDATE_PROFILE, { input: { bio: finalAck } }, user.accessToken));
        acknowledged.push(finalAck);
        const deadline = Date.now() + 20_000;
        const seen = () => new Set(stream.events.map((event) => event.myEvents.user.bio));
        while ([...acknowledged].some((bio) => !seen().has(bio)) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(stream.errors).toEqual([]);
        expect(acknowledged.filter((bio) => !seen().has(bio))).toEqual([]);
        // The kill landed mid-traffic: some updates were refused while users was down.
        expect(acknowledged.length).toBeLessThan(41);
        const me = await graphql<{ me: { bio: string } }>(url, "{ me { bio } }", {}, user.accessToken);
        expect(dataOf(me).me.bio).toBe(finalAck);
      } finally {
        stream.dispose();
        await watcher.client.dispose();
      }
    });
  });
}
