import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { AccessTokenVerifier } from "@beep/auth";
import { type BusEvent, MemoryBus } from "@beep/bus";
import { BeepError } from "@beep/errors";
import { createLogger } from "@beep/observability";
import type { ClientFactory } from "@beep/rpc";
import { createClient } from "graphql-ws";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { GatewayServices } from "./gateway.context.ts";
import {
  CLOSE_TRY_AGAIN_LATER,
  CLOSE_UNAUTHENTICATED,
  createGatewayServer,
  type GatewayServer,
} from "./gateway.server.ts";
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

/**
 * A gateway whose tokens (any string) belong to u1 and expire `tokenLifetimeMs` after each connection;
 * `checkSession` stands for the users service's liveness check.
 */
async function start(
  tokenLifetimeMs = 60_000,
  checkSession?: (token: string) => Promise<void>,
): Promise<Running> {
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
    ...(checkSession ? { checkSession } : {}),
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

  it("closes with 1013 while the session cannot be checked, and a graphql-ws client reconnects once it can", async () => {
    let usersServiceUp = false;
    let checks = 0;
    const r = await start(60_000, async () => {
      checks++;
      if (!usersServiceUp) throw new BeepError("UNAVAILABLE", "users service unavailable");
    });

    const raw = new WebSocket(r.url, "graphql-transport-ws");
    await new Promise((resolve) => raw.once("open", resolve));
    const rawClosed = new Promise<{ code: number; reason: string }>((resolve) =>
      raw.once("close", (code, reason) => resolve({ code, reason: String(reason) })),
    );
    raw.send(JSON.stringify({ type: "connection_init", payload: { authorization: "Bearer token" } }));
    expect(await rawClosed).toEqual({ code: CLOSE_TRY_AGAIN_LATER, reason: "users service unavailable" });

    const closes: number[] = [];
    const client = createClient({
      url: r.url,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: "Bearer token" },
      retryAttempts: 20,
      retryWait: async () => {
        usersServiceUp = closes.length >= 2;
        await new Promise((resolve) => setTimeout(resolve, 20));
      },
      on: { closed: (event) => closes.push((event as { code: number }).code) },
    });
    try {
      const first = await new Promise<unknown>((resolve, reject) => {
        const stop = client.subscribe(
          { query: EVENTS },
          {
            next: (value) => {
              stop();
              resolve(value);
            },
            error: reject,
            complete: () => reject(new Error("stream completed before an event")),
          },
        );
        const publishOnceOpen = setInterval(() => {
          if (r.hub.openStreams() === 0) return;
          clearInterval(publishOnceOpen);
          void r.bus.publish(userUpdated(1));
        }, 5);
      });
      expect(closes.slice(0, 2)).toEqual([CLOSE_TRY_AGAIN_LATER, CLOSE_TRY_AGAIN_LATER]);
      expect(checks).toBeGreaterThanOrEqual(4);
      expect(first).toMatchObject({ data: { events: { event: { __typename: "UserUpdated" } } } });
    } finally {
      await client.dispose();
    }
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

/** The limits of the gateway below: each small enough for a short document to cross. */
const TIGHT_LIMITS = { maxDepth: 4, maxAliases: 3, maxCost: 10, maxTokens: 60, maxDirectives: 3 };
const SEND = `mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { message { id } } }`;
const CREATE_ROLE = `mutation ($input: CreateRoleInput!) { createRole(input: $input) { role { id } } }`;

interface Counting {
  httpUrl: string;
  wsUrl: string;
  /** The content of every message sent. */
  sent: string[];
  /** What the gateway logged. */
  lines: Record<string, unknown>[];
}

const countingServers: Server[] = [];
const countingGateways: GatewayServer[] = [];
afterEach(async () => {
  for (const gateway of countingGateways.splice(0)) await gateway.close();
  for (const http of countingServers.splice(0)) http.close();
});

/** A gateway over HTTP and WebSocket whose messages service counts sends. */
async function startCounting(fastJsonPosts: boolean): Promise<Counting> {
  const sent: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const messages = {
    sendMessage: async (input: { channelId: string; content: string }) => {
      sent.push(input.content);
      return { message: { id: "m1", channelId: input.channelId, content: input.content } };
    },
  };
  const clients = { client: () => messages, close: () => {} } as unknown as ClientFactory;
  const gateway = createGatewayServer({
    services: { clients, hub: {} as GatewayServices["hub"] },
    verifier: {
      verify: async () => ({ userId: "u1", sessionId: "s1", expiresAt: new Date(Date.now() + 60_000) }),
    },
    logger: createLogger({
      service: "gateway-server-test",
      level: "info",
      destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
    }),
    limits: TIGHT_LIMITS,
    graphiql: false,
    fastJsonPosts,
  });
  const http = createServer((req, res) => void gateway.handleHttp(req, res));
  http.on("upgrade", (req, socket, head) => gateway.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  countingGateways.push(gateway);
  countingServers.push(http);
  const base = `127.0.0.1:${(http.address() as AddressInfo).port}/graphql`;
  return { httpUrl: `http://${base}`, wsUrl: `ws://${base}`, sent, lines };
}

interface Answer {
  /** The HTTP status; none over WebSocket. */
  status?: number;
  /** The result's errors, or those of a WebSocket error frame. */
  errors?: { message: string; extensions?: Record<string, unknown> }[];
  data?: unknown;
}

type Transport = (gateway: Counting, query: string, variables?: object) => Promise<Answer>;

const overHttp =
  (accept: string): Transport =>
  async (gateway, query, variables) => {
    const response = await fetch(gateway.httpUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept, authorization: "Bearer t" },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, ...((await response.json()) as Answer) };
  };

const overWebSocket: Transport = async (gateway, query, variables) => {
  const client = await connect({ url: gateway.wsUrl } as Running);
  try {
    client.socket.send(JSON.stringify({ id: "o1", type: "subscribe", payload: { query, variables } }));
    await client.waitFor("an answer", () =>
      client.messages.some((m) => m.type === "error" || m.type === "complete"),
    );
    const error = client.messages.find((m) => m.type === "error");
    if (error) return { errors: error.payload as Answer["errors"] };
    return client.messages.find((m) => m.type === "next")?.payload as Answer;
  } finally {
    client.socket.close(1000);
  }
};

describe("GraphQL limits and bad variables, over HTTP and WebSocket", () => {
  const RESPONSE_JSON = "application/graphql-response+json";
  const transports: [string, boolean, Transport, number | undefined][] = [
    ["the fast path, graphql-response+json", true, overHttp(RESPONSE_JSON), 400],
    ["the fast path, application/json", true, overHttp("application/json"), 200],
    ["yoga, graphql-response+json", false, overHttp(RESPONSE_JSON), 400],
    ["yoga, application/json", false, overHttp("application/json"), 200],
    ["WebSocket", true, overWebSocket, undefined],
  ];
  const variables = { input: { channelId: "c1", content: "hello" } };
  const LIMITED: [string, string, RegExp][] = [
    [
      "token",
      `mutation Send($input: SendMessageInput!) {
        sendMessage(input: $input) { message { ${"id ".repeat(TIGHT_LIMITS.maxTokens)}} } }`,
      /^Token limit of 60 exceeded\.$/,
    ],
    ["depth", "{ __schema { types { fields { type { name } } } } }", /depth/i],
    ["alias", "{ me { a: id b: id c: id d: id } }", /alias/i],
    ["cost", "{ me { id username email firstName lastName displayName bio } }", /cost/i],
    [
      "directive",
      "{ __typename @include(if: true) me @include(if: true) { id @include(if: true) username @include(if: true) } }",
      /directive/i,
    ],
  ];
  const BAD_VARIABLES: [string, string, object, RegExp][] = [
    ["missing", SEND, {}, /^Variable "\$input" of required type "SendMessageInput!" was not provided\.$/],
    [
      "missing a field",
      SEND,
      { input: { channelId: "c1" } },
      /^Variable "\$input" got invalid value .*"content"/,
    ],
    ["of the wrong type", SEND, { input: 3 }, /^Variable "\$input" got invalid value 3; /],
    [
      "a scalar refuses",
      CREATE_ROLE,
      { input: { serverId: "s", name: "r", permissions: "x" } },
      /^Variable "\$input" got invalid value "x" at "input\.permissions"; .*Permissions must be a decimal string$/,
    ],
  ];

  describe.each(transports)("over %s", (_name, fastJsonPosts, transport, status) => {
    it("runs a document within every limit", async () => {
      const gateway = await startCounting(fastJsonPosts);
      const answer = await transport(gateway, SEND, variables);
      expect(answer.errors).toBeUndefined();
      expect(gateway.sent).toEqual(["hello"]);
    });

    it.each(LIMITED)(
      "refuses a document over the %s limit with LIMIT_EXCEEDED, running nothing",
      async (_limit, query, message) => {
        const gateway = await startCounting(fastJsonPosts);
        const answer = await transport(gateway, query, variables);
        expect(answer.errors).toHaveLength(1);
        expect(answer.errors?.[0]?.message).toMatch(message);
        expect(answer.errors?.[0]?.extensions).toEqual({ code: "LIMIT_EXCEEDED" });
        expect(answer.data).toBeUndefined();
        expect(answer.status).toBe(status);
        expect(gateway.sent).toEqual([]);
      },
    );

    it.each(BAD_VARIABLES)(
      "answers a variable %s with BAD_USER_INPUT, unlogged, running nothing",
      async (_what, query, vars, message) => {
        const gateway = await startCounting(fastJsonPosts);
        const answer = await transport(gateway, query, vars);
        expect(answer.errors).toHaveLength(1);
        expect(answer.errors?.[0]?.message).toMatch(message);
        expect(answer.errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT" });
        expect(answer.data).toBeUndefined();
        expect(answer.status).toBe(status);
        expect(gateway.sent).toEqual([]);
        expect(gateway.lines.filter((line) => line.level !== "info")).toEqual([]);
      },
    );
  });
});
