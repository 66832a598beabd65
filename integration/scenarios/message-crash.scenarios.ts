import { describe, expect, it } from "vitest";
import { collect, dataOf, graphql, wsClient } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id channels { id } } } }`;
const JOIN = `mutation ($input: ServerIdInput!) { joinServer(input: $input) { server { id } } }`;
const SEND = `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { message { id content nonce } } }`;
const UPDATE_PROFILE = `mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { user { id } } }`;
const HISTORY = `query ($channelId: ID!, $before: ID) {
  messages(channelId: $channelId, before: $before, limit: 100) { hasMore messages { id content } } }`;
const EVENTS = `subscription { events { seq event { __typename
  ... on UserUpdated { user { bio } }
  ... on MessageCreated { message { id channelId content } } } } }`;

interface Envelope {
  events: {
    seq: string;
    event: {
      __typename: string;
      user?: { bio: string };
      message?: { id: string; channelId: string; content: string };
    };
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Kills the messages process (kill -9) while several members send (split topology): no acknowledged
 * message is lost, each one's MessageCreated reaches the stream (outbox), and retrying the unacknowledged
 * sends with their nonce creates no duplicate.
 */
export function defineMessageCrashScenarios(topology: () => Topology): void {
  describe("messages crash safety", () => {
    it("after kill -9 of messages under load, every acknowledged send is stored and streamed; nonce retries add no duplicate", async () => {
      const url = topology().gatewayUrl;
      const messages = topology().processes.get("messages");
      if (!messages) throw new Error("split topology has a messages process");
      const owner = await signedInUser(url);
      const senders = await Promise.all(Array.from({ length: 4 }, () => signedInUser(url)));
      const { createServer } = dataOf(
        await graphql<{ createServer: { server: { id: string; channels: { id: string }[] } } }>(
          url,
          CREATE_SERVER,
          { input: { name: "Crash lab", public: true } },
          owner.accessToken,
        ),
      );
      const serverId = createServer.server.id;
      const general = createServer.server.channels[0]!.id;
      for (const sender of senders)
        dataOf(await graphql(url, JOIN, { input: { serverId } }, sender.accessToken));

      const watcher = wsClient(topology().secondGatewayUrl, owner.accessToken);
      const stream = collect<Envelope>(watcher.client, EVENTS);
      for (let attempt = 0; stream.events.length === 0; attempt++) {
        if (attempt === 40) throw new Error("events stream never went live");
        dataOf(await graphql(url, UPDATE_PROFILE, { input: { bio: `warm-${attempt}` } }, owner.accessToken));
        await sleep(300);
      }

      const perSender = 15;
      const acknowledged = new Map<string, string>(); // content → id
      const unacknowledged: { token: string; content: string; nonce: string }[] = [];
      const sendOnce = async (token: string, content: string, nonce: string) => {
        const response = await graphql<{ sendMessage: { message: { id: string; content: string } } }>(
          url,
          SEND,
          { input: { channelId: general, content, nonce } },
          token,
        ).catch(() => undefined);
        return response?.data?.sendMessage?.message;
      };
      const traffic = Promise.all(
        senders.map(async (sender, i) => {
          for (let k = 0; k < perSender; k++) {
            const content = `crash ${i}-${k}`;
            const nonce = `crash-${i}-${k}`;
            const sent = await sendOnce(sender.accessToken, content, nonce);
            if (sent) acknowledged.set(content, sent.id);
            else unacknowledged.push({ token: sender.accessToken, content, nonce });
            await sleep(15);
          }
        }),
      );
      // Kill once traffic is flowing (some sends acknowledged), while more are in flight.
      const flowing = Date.now() + 20_000;
      while (acknowledged.size < 6 && Date.now() < flowing) await sleep(5);
      await messages.stop("SIGKILL");
      await traffic;
      await messages.start();

      try {
        // The kill landed mid-traffic: some sends were refused while messages was down.
        expect(unacknowledged.length).toBeGreaterThan(0);
        expect(acknowledged.size).toBeGreaterThan(0);
        // A client retries what was not acknowledged, with the same nonce.
        for (const retry of unacknowledged) {
          let sent: { id: string; content: string } | undefined;
          for (let attempt = 0; !sent; attempt++) {
            if (attempt === 50) throw new Error(`retry of ${retry.nonce} kept failing`);
            sent = await sendOnce(retry.token, retry.content, retry.nonce);
            if (!sent) await sleep(200);
          }
          expect(sent.content).toBe(retry.content);
          acknowledged.set(retry.content, sent.id);
        }
        const stored: { id: string; content: string }[] = [];
        let before: string | undefined;
        for (;;) {
          const page = dataOf(
            await graphql<{ messages: { hasMore: boolean; messages: { id: string; content: string }[] } }>(
              url,
              HISTORY,
              { channelId: general, before },
              owner.accessToken,
            ),
          ).messages;
          stored.push(...page.messages);
          if (!page.hasMore || page.messages.length === 0) break;
          before = page.messages.at(-1)!.id;
        }
        // Every send exactly once, with the id it was acknowledged with.
        expect(stored).toHaveLength(senders.length * perSender);
        expect(new Set(stored.map((m) => m.content)).size).toBe(stored.length);
        for (const message of stored) expect(acknowledged.get(message.content)).toBe(message.id);

        // Every stored message's MessageCreated reached the stream, once, in id order.
        const ids = stored.map((m) => m.id).reverse();
        const deadline = Date.now() + 30_000;
        const streamed = () =>
          stream.events
            .map((e) => e.events.event)
            .filter((e) => e.__typename === "MessageCreated" && e.message?.channelId === general)
            .map((e) => e.message!.id);
        while (streamed().length < ids.length && Date.now() < deadline) await sleep(100);
        expect(stream.errors).toEqual([]);
        expect(streamed()).toEqual(ids);
        if (process.env.BEEP_IT_FIGURES) {
          console.info(
            `crash: ${ids.length} messages, ${ids.length - unacknowledged.length} acknowledged before/around the kill, ${unacknowledged.length} retried by nonce, ${streamed().length} MessageCreated streamed`,
          );
        }
      } finally {
        stream.dispose();
        await watcher.client.dispose();
      }
    }, 120_000);
  });
}
