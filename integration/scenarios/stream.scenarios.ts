import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { collect, dataOf, graphql, wsClient } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";
import { TEST_REPLAY_WINDOW_EVENTS } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const UPDATE_PROFILE = `mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { user { id } } }`;
const SIGN_IN = `mutation ($input: SignInInput!) { signIn(input: $input) { accessToken } }`;
const REVOKE = `mutation ($input: RevokeSessionInput!) { revokeSession(input: $input) { sessionId } }`;

/** The `events` subscription, optionally resuming after `since`. */
const EVENTS = (since?: string) =>
  `subscription { events${since === undefined ? "" : `(since: ${JSON.stringify(since)})`} {
    seq event { __typename ... on UserUpdated { user { id bio } } ... on ResyncRequired { reason } } } }`;

interface Envelope {
  events: {
    seq: string;
    event: { __typename: string; user?: { id: string; bio: string }; reason?: string };
  };
}

/** Test-deployment limits set in harness/topology.ts (STREAM_LIMIT_ENV). */
const REPLAY_WINDOW_EVENTS = TEST_REPLAY_WINDOW_EVENTS;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), ms))]);

async function setBio(url: string, token: string, bio: string): Promise<void> {
  dataOf(await graphql(url, UPDATE_PROFILE, { input: { bio } }, token));
}

/** Bios of the UserUpdated events, without liveStream's warm-up changes (a late one may still arrive). */
const biosOf = (events: Envelope[]) =>
  events
    .filter((e) => e.events.event.__typename === "UserUpdated")
    .map((e) => e.events.event.user!.bio)
    .filter((bio) => !bio.startsWith("warm-"));

/** Waits until a stream received the UserUpdated event with this bio, and returns its envelope. */
async function received(events: Envelope[], bio: string): Promise<Envelope["events"]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = events.find((e) => e.events.event.user?.bio === bio);
    if (found) return found.events;
    if (Date.now() > deadline) throw new Error(`never received ${bio}`);
    await sleep(20);
  }
}

/** Subscribes and waits until the stream is live (a warm-up profile change arrives). */
async function liveStream(streamUrl: string, writeUrl: string, token: string, since?: string) {
  const socket = wsClient(streamUrl, token);
  const stream = collect<Envelope>(socket.client, EVENTS(since));
  for (let attempt = 0; stream.events.length === 0; attempt++) {
    if (attempt === 50) throw new Error(`events stream never went live: ${JSON.stringify(stream.errors)}`);
    await setBio(writeUrl, token, `warm-${attempt}`);
    await within(stream.waitFor(1, 300), 400).catch(() => undefined);
  }
  return {
    socket,
    stream,
    async close() {
      stream.dispose();
      await socket.client.dispose();
    },
  };
}

/** A Prometheus series of a node's /metrics, summed over its labels (the process adds `target`). */
async function metric(url: string, name: string): Promise<number> {
  const body = await (await fetch(`${url}/metrics`)).text();
  return body
    .split("\n")
    .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

/** A raw graphql-transport-ws socket whose TCP reading can be paused. */
async function rawSocket(url: string, token: string) {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws");
  let tcp: Socket | undefined;
  ws.on("upgrade", (response) => {
    tcp = response.socket as Socket;
  });
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  const frames: { id?: string; type: string; payload?: unknown }[] = [];
  ws.on("message", (data) => frames.push(JSON.parse(String(data))));
  await new Promise((resolve, reject) => {
    ws.on("open", resolve);
    ws.on("error", reject);
  });
  ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
  const deadline = Date.now() + 5_000;
  while (!frames.some((f) => f.type === "connection_ack")) {
    if (Date.now() > deadline) throw new Error("no connection_ack");
    await sleep(10);
  }
  return { ws, frames, closed, tcp: () => tcp! };
}

/** The real-time stream (api.md "Real-time"): one log across gateway nodes, resume, limits. */
export function defineStreamScenarios(topology: () => Topology): void {
  describe("real-time events stream", () => {
    const a = () => topology().gatewayUrl;
    const b = () => topology().secondGatewayUrl;

    it("an update through gateway A reaches a subscription on gateway B, with the same seq on both nodes", async () => {
      const user = await signedInUser(a());
      const onB = await liveStream(b(), a(), user.accessToken);
      const onA = await liveStream(a(), a(), user.accessToken);
      try {
        await setBio(a(), user.accessToken, "hello from A");
        const lastB = await received(onB.stream.events, "hello from A");
        const lastA = await received(onA.stream.events, "hello from A");
        expect(lastB.event).toEqual({
          __typename: "UserUpdated",
          user: { id: user.user.id, bio: "hello from A" },
        });
        expect(lastB.seq).toBe(lastA.seq);
      } finally {
        await onB.close();
        await onA.close();
      }
    });

    it("executes a shared selection once per event and sends the same payload to every subscriber", async () => {
      const user = await signedInUser(a());
      const query = "subscription { events { seq event { ... on UserUpdated { user { id bio } } } } }";
      const sockets = await Promise.all(Array.from({ length: 5 }, () => rawSocket(b(), user.accessToken)));
      const nexts = (raw: (typeof sockets)[number]) => raw.frames.filter((f) => f.type === "next");
      try {
        for (const [i, raw] of sockets.entries()) {
          raw.ws.send(JSON.stringify({ id: `same-${i}`, type: "subscribe", payload: { query } }));
        }
        for (let attempt = 0; sockets.some((raw) => nexts(raw).length === 0); attempt++) {
          if (attempt === 50) throw new Error("raw subscriptions never went live");
          await setBio(a(), user.accessToken, `group-warm-${attempt}`);
          await sleep(200);
        }
        await sleep(300);
        const counts = sockets.map((raw) => nexts(raw).length);
        const executionsBefore = await metric(b(), "gateway_event_executions_total");
        await setBio(a(), user.accessToken, "grouped");
        const deadline = Date.now() + 10_000;
        while (sockets.some((raw, i) => nexts(raw).length === counts[i])) {
          if (Date.now() > deadline) throw new Error("not every subscriber received the event");
          await sleep(20);
        }
        expect((await metric(b(), "gateway_event_executions_total")) - executionsBefore).toBe(1);
        const payloads = sockets.map((raw) => JSON.stringify(nexts(raw).at(-1)!.payload));
        expect(new Set(payloads).size).toBe(1);
        expect(payloads[0]).toContain('"bio":"grouped"');
      } finally {
        for (const raw of sockets) raw.ws.terminate();
      }
    });

    it("resumes after a disconnect with exactly the missed events in order, then live ones (other node)", async () => {
      const user = await signedInUser(a());
      const first = await liveStream(b(), a(), user.accessToken);
      await first.close();
      const lastSeq = first.stream.events.at(-1)!.events.seq;
      const missed = ["r1", "r2", "r3", "r4", "r5"];
      for (const bio of missed) await setBio(a(), user.accessToken, bio);
      const socket = wsClient(a(), user.accessToken);
      const resumed = collect<Envelope>(socket.client, EVENTS(lastSeq));
      try {
        await received(resumed.events, "r5");
        expect(biosOf(resumed.events)).toEqual(missed);
        await setBio(b(), user.accessToken, "live");
        await received(resumed.events, "live");
        await sleep(300);
        expect(resumed.errors).toEqual([]);
        expect(biosOf(resumed.events)).toEqual([...missed, "live"]);
        expect(new Set(resumed.events.map((e) => e.events.seq)).size).toBe(resumed.events.length);
      } finally {
        resumed.dispose();
        await socket.client.dispose();
      }
    });

    it("resumes under continuous traffic: 0 missed, 0 duplicated, 0 reordered", async () => {
      const user = await signedInUser(a());
      const first = await liveStream(b(), a(), user.accessToken);
      const published: string[] = [];
      let writing = true;
      const traffic = (async () => {
        for (let i = 0; writing; i++) {
          await setBio(a(), user.accessToken, `c${i}`);
          published.push(`c${i}`);
        }
      })();
      let second: ReturnType<typeof collect<Envelope>> | undefined;
      const socket = wsClient(a(), user.accessToken);
      try {
        await first.stream.waitFor(first.stream.events.length + 8);
        await first.close();
        const lastSeq = first.stream.events.at(-1)!.events.seq;
        await sleep(300);
        second = collect<Envelope>(socket.client, EVENTS(lastSeq));
        await sleep(700);
        writing = false;
        await traffic;
        const last = published.at(-1)!;
        const deadline = Date.now() + 10_000;
        while (!biosOf(second.events).includes(last)) {
          if (Date.now() > deadline) throw new Error(`never received ${last}`);
          await sleep(50);
        }
        await sleep(300);
        const received = [...biosOf(first.stream.events), ...biosOf(second.events)].filter((bio) =>
          bio.startsWith("c"),
        );
        expect(second.errors).toEqual([]);
        expect(second.events.some((e) => e.events.event.__typename === "ResyncRequired")).toBe(false);
        expect(received).toEqual(published);
        expect(published.length).toBeGreaterThan(10);
      } finally {
        writing = false;
        await traffic;
        second?.dispose();
        await socket.client.dispose();
      }
    });

    it("starts with ResyncRequired when since is outside the replay window, then goes live", async () => {
      const user = await signedInUser(a());
      const first = await liveStream(b(), a(), user.accessToken);
      await first.close();
      const oldSeq = first.stream.events.at(-1)!.events.seq;
      // More routed events than the window holds.
      for (let batch = 0; batch * 20 <= REPLAY_WINDOW_EVENTS + 10; batch++) {
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => setBio(a(), user.accessToken, `fill-${batch}-${i}`)),
        );
      }
      const socket = wsClient(b(), user.accessToken);
      const resumed = collect<Envelope>(socket.client, EVENTS(oldSeq));
      try {
        await resumed.waitFor(1);
        expect(resumed.events[0]!.events.event).toEqual({
          __typename: "ResyncRequired",
          reason: "WINDOW_EXCEEDED",
        });
        await setBio(a(), user.accessToken, "after resync");
        const deadline = Date.now() + 10_000;
        while (!biosOf(resumed.events).includes("after resync")) {
          if (Date.now() > deadline) throw new Error("no live event after ResyncRequired");
          await sleep(50);
        }
        // Fill events still being relayed when the stream went live arrive live, after the resync.
        expect(biosOf(resumed.events).filter((bio) => !bio.startsWith("fill-"))).toEqual(["after resync"]);
      } finally {
        resumed.dispose();
        await socket.client.dispose();
      }
    });

    it("refuses a malformed since with BAD_USER_INPUT and keeps the socket usable", async () => {
      const user = await signedInUser(a());
      const socket = wsClient(b(), user.accessToken);
      const bad = collect<Envelope>(socket.client, EVENTS("not-a-seq"));
      try {
        await bad.waitFor(1, 5_000).catch(() => undefined);
        expect(bad.errors).toMatchObject([{ extensions: { code: "BAD_USER_INPUT", field: "since" } }]);
        expect(await within(socket.closed, 300)).toBe("timeout");
      } finally {
        bad.dispose();
        await socket.client.dispose();
      }
    });

    it("cuts off a socket that stops reading (4008) and releases its streams; others keep receiving", async () => {
      const user = await signedInUser(a());
      const watcher = await liveStream(b(), a(), user.accessToken);
      const raw = await rawSocket(b(), user.accessToken);
      // 90 subscriptions of a wide selection: each profile change queues ~90 large frames for this socket.
      const fields =
        "id bio username firstName lastName displayName email createdAt updatedAt pictureUrl bannerUrl";
      const wide = Array.from({ length: 15 }, (_, i) => `u${i}: user { ${fields} }`).join(" ");
      const query = `subscription { events { seq event { ... on UserUpdated { ${wide} } } } }`;
      const subscriptions = 90;
      try {
        for (let i = 0; i < subscriptions; i++) {
          raw.ws.send(JSON.stringify({ id: `s${i}`, type: "subscribe", payload: { query } }));
        }
        for (let attempt = 0; raw.frames.filter((f) => f.type === "next").length < subscriptions; attempt++) {
          if (attempt === 50) throw new Error("raw subscriptions never went live");
          await setBio(a(), user.accessToken, `raw-warm-${attempt}`);
          await sleep(200);
        }
        const openBefore = await metric(b(), "gateway_event_streams_open");
        const cutBefore = await metric(b(), "gateway_slow_consumer_disconnects_total");
        raw.tcp().pause();
        const long = "x".repeat(180);
        for (let i = 0; (await metric(b(), "gateway_slow_consumer_disconnects_total")) === cutBefore; i++) {
          if (i === 300) throw new Error("the slow socket was never cut off");
          await setBio(a(), user.accessToken, `${long}${i}`);
        }
        // Nothing more is queued for it: its streams are gone while the socket is still unread.
        expect(await metric(b(), "gateway_event_streams_open")).toBeLessThanOrEqual(
          openBefore - subscriptions,
        );
        raw.tcp().resume();
        expect(await within(raw.closed, 30_000)).toBe(4008);
        // The healthy subscriber of the same user on the same node kept receiving.
        const seen = watcher.stream.events.length;
        await setBio(a(), user.accessToken, "still flowing");
        await watcher.stream.waitFor(seen + 1);
        expect(biosOf(watcher.stream.events).at(-1)).toBe("still flowing");
      } finally {
        raw.ws.terminate();
        await watcher.close();
      }
    });

    it("closes a socket that sends too many messages with 4029", async () => {
      const user = await signedInUser(a());
      const raw = await rawSocket(b(), user.accessToken);
      for (let i = 0; i < 150 && raw.ws.readyState === WebSocket.OPEN; i++)
        raw.ws.send(JSON.stringify({ type: "ping" }));
      expect(await within(raw.closed, 5_000)).toBe(4029);
    });

    it("closes an events socket with 4401 when its session is revoked", async () => {
      const user = await signedInUser(a());
      const other = dataOf(
        await graphql<{ signIn: { accessToken: string } }>(a(), SIGN_IN, {
          input: { email: user.identity.email, password: user.identity.password },
        }),
      ).signIn;
      const live = await liveStream(b(), a(), user.accessToken);
      try {
        const sid = JSON.parse(Buffer.from(user.accessToken.split(".")[1]!, "base64url").toString()).sid;
        dataOf(await graphql(a(), REVOKE, { input: { sessionId: sid } }, other.accessToken));
        expect(await within(live.socket.closed, 5_000)).toMatchObject({ code: 4401 });
      } finally {
        await live.close();
      }
    });
  });
}
