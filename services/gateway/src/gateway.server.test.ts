import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { AccessTokenVerifier } from "@beep/auth";
import { type BusEvent, MemoryBus } from "@beep/bus";
import { createLogger } from "@beep/observability";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { GatewayServices } from "./gateway.context.ts";
import { CLOSE_UNAUTHENTICATED, createGatewayServer, type GatewayServer } from "./gateway.server.ts";
import { userUpdatedRoute } from "./realtime/routes/users.routes.ts";
import { StreamHub } from "./realtime/stream-hub.ts";
import { UserOnlyAudienceIndex } from "./realtime/user-only-audience-index.ts";

const logger = createLogger({ service: "gateway-server-test", level: "silent" });
const EVENTS = `subscription { events { seq event { __typename ... on UserUpdated { user { id } } } } }`;

interface Running {
  url: string;
  hub: StreamHub;
  bus: MemoryBus;
  gateway: GatewayServer;
  http: Server;
}

const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.gateway.close();
    r.http.close();
    await r.hub.stop();
    await r.bus.close();
  }
});

/** A gateway whose tokens (any string) belong to u1 and expire `tokenLifetimeMs` after each connection. */
async function start(tokenLifetimeMs = 60_000): Promise<Running> {
  const bus = new MemoryBus(logger);
  const hub = new StreamHub({
    bus,
    audienceIndex: new UserOnlyAudienceIndex(),
    routes: [userUpdatedRoute],
    logger,
    replayWindowEvents: 100,
    replayWindowSeconds: 60,
    maxSocketBufferBytes: 1024 * 1024,
  });
  await hub.start();
  const verifier: AccessTokenVerifier = {
    verify: async () => ({
      userId: "u1",
      sessionId: "s1",
      expiresAt: new Date(Date.now() + tokenLifetimeMs),
    }),
  };
  const gateway = createGatewayServer({
    // Nothing here calls a service: the stream's selection reads the event only.
    services: {} as GatewayServices,
    verifier,
    logger,
    limits: { maxDepth: 10, maxAliases: 10, maxCost: 5000, maxTokens: 1000, maxDirectives: 10 },
    graphiql: false,
    streams: hub,
  });
  const http = createServer();
  http.on("upgrade", (req, socket, head) => gateway.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const r = {
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/graphql`,
    hub,
    bus,
    gateway,
    http,
  };
  running.push(r);
  return r;
}

interface Client {
  socket: WebSocket;
  messages: { id?: string; type: string; payload?: unknown }[];
  closed: Promise<{ code: number; reason: string }>;
  waitFor(what: string, test: () => boolean): Promise<void>;
}

async function connect(r: Running): Promise<Client> {
  const socket = new WebSocket(r.url, "graphql-transport-ws");
  const messages: Client["messages"] = [];
  socket.on("message", (data) => messages.push(JSON.parse(String(data))));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once("close", (code, reason) => resolve({ code, reason: String(reason) })),
  );
  const waitFor = async (what: string, test: () => boolean) => {
    const deadline = Date.now() + 5_000;
    while (!test()) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify(messages)}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  await new Promise((resolve) => socket.once("open", resolve));
  socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: "Bearer token" } }));
  await waitFor("ack", () => messages.some((m) => m.type === "connection_ack"));
  return { socket, messages, closed, waitFor };
}

function userUpdated(n: number): BusEvent {
  return {
    id: `e${n}`,
    type: "user.updated",
    occurredAt: new Date().toISOString(),
    payload: { user: { id: "u1", n } },
  };
}

describe("gateway WebSocket server", () => {
  it("closes an authenticated socket with 4401 once its access token expires", async () => {
    const r = await start(300);
    const client = await connect(r);
    const started = Date.now();
    expect(await client.closed).toEqual({ code: CLOSE_UNAUTHENTICATED, reason: "Access token expired" });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("streams events in order, and complete or a close ends the hub's stream", async () => {
    const r = await start();
    const client = await connect(r);
    client.socket.send(JSON.stringify({ id: "s1", type: "subscribe", payload: { query: EVENTS } }));
    await client.waitFor("open stream", () => r.hub.openStreams() === 1);
    for (const n of [1, 2, 3]) await r.bus.publish(userUpdated(n));
    const next = () => client.messages.filter((m) => m.type === "next");
    await client.waitFor("three frames", () => next().length === 3);
    const seqs = next().map((m) =>
      Number((m.payload as { data: { events: { seq: string } } }).data.events.seq),
    );
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(3);
    expect(next().every((m) => m.id === "s1")).toBe(true);
    client.socket.send(JSON.stringify({ id: "s1", type: "complete" }));
    await client.waitFor("stream ended", () => r.hub.openStreams() === 0);

    client.socket.send(JSON.stringify({ id: "s2", type: "subscribe", payload: { query: EVENTS } }));
    await client.waitFor("second stream", () => r.hub.openStreams() === 1);
    client.socket.close(1000);
    await client.closed;
    await client.waitFor("stream ended on close", () => r.hub.openStreams() === 0);
  });

  it("refuses a malformed since with BAD_USER_INPUT and opens nothing", async () => {
    const r = await start();
    const client = await connect(r);
    const query = `subscription { events(since: "x") { seq } }`;
    client.socket.send(JSON.stringify({ id: "s1", type: "subscribe", payload: { query } }));
    await client.waitFor("complete", () => client.messages.some((m) => m.type === "complete"));
    const result = client.messages.find((m) => m.type === "next")?.payload as {
      errors: { extensions: { code: string } }[];
    };
    expect(result.errors[0]?.extensions.code).toBe("BAD_USER_INPUT");
    expect(r.hub.openStreams()).toBe(0);
  });
});
