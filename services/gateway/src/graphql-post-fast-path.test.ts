import { request as h1Request, type OutgoingHttpHeaders } from "node:http";
import { connect as connectH2 } from "node:http2";
import type { AccessTokenVerifier } from "@beep/auth";
import { BeepError } from "@beep/errors";
import { createLogger } from "@beep/observability";
import type { ClientFactory, HttpListener, RequestDone } from "@beep/rpc";
import { createHttpListener } from "@beep/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GatewayServices } from "./gateway.context.ts";
import { createGatewayServer, type GatewayServer } from "./gateway.server.ts";
import { fastPathParams, singleJsonMediaType } from "./graphql-post-fast-path.ts";

/** One gateway behind the production HTTP listener, with what it logged and reported. */
interface Served {
  url: string;
  listener: HttpListener;
  gateway: GatewayServer;
  lines: Record<string, unknown>[];
  done: RequestDone[];
  /** How each response's head was written, in order: "fast" (Node's writeHead) or "yoga" (whatwg-node). */
  paths: ("fast" | "yoga")[];
}

const LIMITS = { maxDepth: 4, maxAliases: 3, maxCost: 5000, maxTokens: 200, maxDirectives: 10 };

/** A messages client whose sendMessage answers by the content sent. */
function fakeServices(): GatewayServices {
  const messages = {
    sendMessage: async (input: { channelId: string; content: string }) => {
      if (input.content === "boom") throw new Error("database exploded");
      if (input.content === "missing") throw new BeepError("NOT_FOUND", "Channel not found");
      if (input.content === "bad")
        throw new BeepError("BAD_USER_INPUT", "Content too long", { field: "content" });
      return { message: { id: "m1", channelId: input.channelId, content: input.content } };
    },
  };
  const clients = { client: () => messages, close: () => {} } as unknown as ClientFactory;
  return { clients, hub: {} as GatewayServices["hub"] };
}

/** Tokens: "down" fails as the users service would when unreachable; anything else is u1's. */
const verifier: AccessTokenVerifier = {
  verify: async (token) => {
    if (token === "expired") throw new BeepError("UNAUTHENTICATED", "Access token expired");
    if (token === "down") throw new BeepError("UNAVAILABLE", "Users service unavailable");
    return { userId: "u1", sessionId: "s1", expiresAt: new Date(Date.now() + 60_000) };
  },
};

async function serve(fastJsonPosts: boolean): Promise<Served> {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: fastJsonPosts ? "fast" : "yoga",
    level: "info",
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const done: RequestDone[] = [];
  const listener = createHttpListener({
    host: "127.0.0.1",
    port: 0,
    logger,
    onRequestDone: (d) => done.push(d),
  });
  const gateway = createGatewayServer({
    services: fakeServices(),
    verifier,
    logger,
    limits: LIMITS,
    graphiql: false,
    fastJsonPosts,
  });
  const paths: Served["paths"] = [];
  listener.route("/graphql", (req, res) => {
    // whatwg-node writes a response head with a status text argument, the fast path without one.
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => typeof res;
    (res as { writeHead: unknown }).writeHead = (...args: unknown[]) => {
      paths.push(typeof args[1] === "string" ? "yoga" : "fast");
      return writeHead(...args);
    };
    return gateway.handleHttp(req as never, res as never);
  });
  const { url } = await listener.listen();
  return { url, listener, gateway, lines, done, paths };
}

interface Exchange {
  status: number;
  /** Raw header names and values in order, without Date (which ticks). */
  headers: string[];
  body: string;
}

interface Case {
  name: string;
  method?: string;
  path?: string;
  headers?: OutgoingHttpHeaders;
  /** Sent as is; an object is JSON-encoded. */
  body?: string | object;
  /** Sent with chunked encoding instead of a Content-Length. */
  chunked?: boolean;
  /** Which path the fast gateway should take. */
  expect: "fast" | "yoga";
  /** An error code the answer must carry, so the case tests what it says. */
  code?: string;
  /** The HTTP status the answer must have. */
  status?: number;
}

function exchange(base: string, c: Case): Promise<Exchange> {
  const body =
    c.body === undefined ? undefined : typeof c.body === "string" ? c.body : JSON.stringify(c.body);
  const headers: OutgoingHttpHeaders = {
    ...(c.method === "GET" || c.method === "OPTIONS" ? {} : { "content-type": "application/json" }),
    ...c.headers,
  };
  if (body !== undefined && !c.chunked) headers["content-length"] = Buffer.byteLength(body);
  return new Promise((resolve, reject) => {
    const req = h1Request(
      new URL(c.path ?? "/graphql", base),
      { method: c.method ?? "POST", headers, agent: false },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => {
          const raw: string[] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            const name = res.rawHeaders[i] as string;
            if (name.toLowerCase() !== "date") raw.push(name, res.rawHeaders[i + 1] as string);
          }
          resolve({ status: res.statusCode ?? 0, headers: raw, body: text });
        });
      },
    );
    req.on("error", reject);
    if (c.chunked) req.setHeader("transfer-encoding", "chunked");
    req.end(body);
  });
}

const SEND = `mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { message { id content } } }`;
const send = (content: string, extra: object = {}) => ({
  query: SEND,
  variables: { input: { channelId: "c1", content } },
  ...extra,
});
const AUTH = { authorization: "Bearer good" };
const GRAPHQL_RESPONSE = { accept: "application/graphql-response+json" };
const typename = { query: "{ __typename }" };

const CASES: Case[] = [
  { name: "a valid query", body: typename, expect: "fast" },
  { name: "a valid mutation", headers: AUTH, body: send("hello"), expect: "fast" },
  {
    name: "a mutation with operationName",
    headers: AUTH,
    body: send("hi", { operationName: "Send" }),
    expect: "fast",
  },
  {
    name: "variables and operationName null",
    body: { query: "{ __typename }", variables: null, operationName: null },
    expect: "fast",
  },
  { name: "UNAUTHENTICATED from a resolver", body: send("hello"), expect: "fast", code: "UNAUTHENTICATED" },
  {
    name: "NOT_FOUND from a resolver",
    headers: AUTH,
    body: send("missing"),
    expect: "fast",
    code: "NOT_FOUND",
  },
  {
    name: "BAD_USER_INPUT with a field",
    headers: AUTH,
    body: send("bad"),
    expect: "fast",
    code: "BAD_USER_INPUT",
  },
  {
    name: "an unexpected resolver exception (masked)",
    headers: AUTH,
    body: send("boom"),
    expect: "fast",
    code: "INTERNAL",
  },
  {
    name: "the exception, graphql-response+json",
    headers: { ...AUTH, ...GRAPHQL_RESPONSE },
    body: send("boom"),
    expect: "fast",
  },
  {
    name: "a malformed Authorization (401)",
    headers: { authorization: "Basic abc" },
    body: typename,
    expect: "fast",
    code: "UNAUTHENTICATED",
  },
  {
    name: "an expired token (401)",
    headers: { authorization: "Bearer expired" },
    body: typename,
    expect: "fast",
  },
  {
    name: "users unavailable (503)",
    headers: { authorization: "Bearer down" },
    body: typename,
    expect: "fast",
    code: "UNAVAILABLE",
  },
  { name: "a parse error", body: { query: "{ __typename" }, expect: "fast", code: "GRAPHQL_PARSE_FAILED" },
  {
    name: "a parse error, graphql-response+json",
    headers: GRAPHQL_RESPONSE,
    body: { query: "{ __typename" },
    expect: "fast",
  },
  {
    name: "a validation error",
    body: { query: "{ nope }" },
    expect: "fast",
    code: "GRAPHQL_VALIDATION_FAILED",
  },
  {
    name: "a validation error, graphql-response+json",
    headers: GRAPHQL_RESPONSE,
    body: { query: "{ nope }" },
    expect: "fast",
  },
  {
    name: "an unknown operationName",
    body: { query: "query A { __typename }", operationName: "B" },
    expect: "fast",
    code: "OPERATION_RESOLUTION_FAILURE",
  },
  {
    name: "two operations without operationName",
    body: { query: "query A { __typename } query B { __typename }" },
    expect: "fast",
    code: "OPERATION_RESOLUTION_FAILURE",
  },
  {
    name: "two operations, one named",
    body: { query: "query A { __typename } query B { __typename }", operationName: "B" },
    expect: "fast",
  },
  {
    name: "a missing required variable",
    headers: AUTH,
    body: { query: SEND },
    expect: "fast",
    status: 200,
    code: "BAD_USER_INPUT",
  },
  {
    name: "a variable of the wrong type",
    headers: AUTH,
    body: { query: SEND, variables: { input: { channelId: 1 } } },
    expect: "fast",
    status: 200,
    code: "BAD_USER_INPUT",
  },
  {
    name: "bad variables, graphql-response+json",
    headers: { ...AUTH, ...GRAPHQL_RESPONSE },
    body: { query: SEND, variables: { input: 3 } },
    expect: "fast",
    status: 400,
    code: "BAD_USER_INPUT",
  },
  {
    name: "too deep (LIMIT_EXCEEDED)",
    headers: AUTH,
    body: { query: "{ me { servers { channels { server { id } } } } }" },
    expect: "fast",
    code: "LIMIT_EXCEEDED",
  },
  {
    name: "too many aliases",
    headers: AUTH,
    body: { query: "{ a: me { id } b: me { id } c: me { id } d: me { id } }" },
    expect: "fast",
    code: "LIMIT_EXCEEDED",
  },
  // Refused at parse time (tokenLimitRejection in gateway.server.ts), as a parse error is: 400 under
  // graphql-response+json, 200 under application/json.
  {
    name: "too many tokens",
    body: { query: `{ ${"__typename ".repeat(250)}}` },
    expect: "fast",
    status: 200,
    code: "LIMIT_EXCEEDED",
  },
  {
    name: "too many tokens, graphql-response+json",
    headers: GRAPHQL_RESPONSE,
    body: { query: `{ ${"__typename ".repeat(250)}}` },
    expect: "fast",
    status: 400,
    code: "LIMIT_EXCEEDED",
  },
  {
    name: "too many directives",
    body: { query: `{ __typename ${"@include(if: true) ".repeat(11)}}` },
    expect: "fast",
    code: "LIMIT_EXCEEDED",
  },
  { name: "accept */*", headers: { accept: "*/*" }, body: typename, expect: "fast" },
  {
    name: "accept application/json",
    headers: { accept: "application/json" },
    body: typename,
    expect: "fast",
  },
  {
    name: "accept application/json; charset=utf-8",
    headers: { accept: "application/json; charset=utf-8" },
    body: { query: "{ nope }" },
    expect: "fast",
  },
  { name: "accept graphql-response+json", headers: GRAPHQL_RESPONSE, body: typename, expect: "fast" },
  {
    name: "accept both, graphql-response+json first",
    headers: { accept: "application/graphql-response+json, application/json" },
    body: { query: "{ nope }" },
    expect: "fast",
  },
  {
    name: "accept both, json first",
    headers: { accept: "application/json, application/graphql-response+json" },
    body: { query: "{ nope }" },
    expect: "fast",
  },
  {
    name: "accept application/*",
    headers: { accept: "application/*" },
    body: { query: "{ nope }" },
    expect: "fast",
  },
  {
    name: "accept with q-values",
    headers: { accept: "application/graphql-response+json;q=0.9, application/json;q=0.8" },
    body: { query: "{ nope }" },
    expect: "fast",
  },
  {
    name: "accept event stream then json",
    headers: { accept: "text/event-stream, application/json" },
    body: typename,
    expect: "fast",
  },
  {
    name: "accept json in latin-1 only",
    headers: { accept: "application/json; charset=iso-8859-1" },
    body: typename,
    expect: "yoga",
  },
  {
    name: "accept event stream only",
    headers: { accept: "text/event-stream" },
    body: typename,
    expect: "yoga",
  },
  { name: "accept multipart only", headers: { accept: "multipart/mixed" }, body: typename, expect: "yoga" },
  { name: "accept text/html only", headers: { accept: "text/html" }, body: typename, expect: "yoga" },
  {
    name: "content-type with charset",
    headers: { "content-type": "application/json; charset=utf-8" },
    body: typename,
    expect: "fast",
  },
  {
    name: "content-type application/graphql+json",
    headers: { "content-type": "application/graphql+json" },
    body: typename,
    expect: "fast",
  },
  {
    name: "content-type application/graphql",
    headers: { "content-type": "application/graphql" },
    body: "{ __typename }",
    expect: "yoga",
  },
  {
    name: "content-type text/plain",
    headers: { "content-type": "text/plain" },
    body: typename,
    expect: "yoga",
  },
  { name: "an invalid JSON body", body: "{ query:", expect: "yoga" },
  { name: "a null body", body: "null", expect: "yoga" },
  { name: "an empty object body", body: "{}", expect: "yoga" },
  { name: "an empty array body", body: "[]", expect: "yoga" },
  { name: "a batch", body: [typename, typename], expect: "yoga" },
  { name: "a string body", body: '"{ __typename }"', expect: "yoga" },
  { name: "a number body", body: "1", expect: "yoga" },
  { name: "a missing query", body: { variables: {} }, expect: "yoga" },
  { name: "a query that is not a string", body: { query: 1 }, expect: "yoga" },
  { name: "variables that are an array", body: { query: "{ __typename }", variables: [] }, expect: "yoga" },
  { name: "variables that are a string", body: { query: "{ __typename }", variables: "{}" }, expect: "yoga" },
  {
    name: "an operationName that is not a string",
    body: { query: "{ __typename }", operationName: 1 },
    expect: "yoga",
  },
  { name: "extensions present", body: { query: "{ __typename }", extensions: {} }, expect: "yoga" },
  {
    name: "a persisted-query hash",
    body: { extensions: { persistedQuery: { version: 1, sha256Hash: "abc" } } },
    expect: "yoga",
  },
  { name: "an unexpected parameter", body: { query: "{ __typename }", foo: 1 }, expect: "yoga" },
  {
    name: "a subscription over POST",
    headers: AUTH,
    body: { query: "subscription { events { seq } }" },
    expect: "yoga",
  },
  {
    name: "a subscription, graphql-response+json",
    headers: GRAPHQL_RESPONSE,
    body: { query: "subscription { events { seq } }" },
    expect: "yoga",
  },
  { name: "an Origin (CORS)", headers: { origin: "https://app.example" }, body: typename, expect: "fast" },
  {
    name: "an Origin with an error",
    headers: { origin: "https://app.example", authorization: "Basic x" },
    body: typename,
    expect: "fast",
  },
  { name: "an Origin of *", headers: { origin: "*" }, body: typename, expect: "fast" },
  { name: "an empty Origin", headers: { origin: "" }, body: typename, expect: "fast" },
  {
    name: "an Origin asking for headers",
    headers: { origin: "https://app.example", "access-control-request-headers": "x-a" },
    body: typename,
    expect: "yoga",
  },
  {
    name: "a CORS preflight",
    method: "OPTIONS",
    headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    expect: "yoga",
  },
  { name: "a GET query", method: "GET", path: "/graphql?query=%7B__typename%7D", expect: "yoga" },
  {
    name: "a GET mutation",
    method: "GET",
    path: `/graphql?query=${encodeURIComponent('mutation { startTyping(input: {channelId: "c"}) { expiresAt } }')}`,
    expect: "yoga",
  },
  { name: "a PUT", method: "PUT", body: typename, expect: "yoga" },
  { name: "a query string on the POST", path: "/graphql?op=x", body: typename, expect: "yoga" },
  { name: "a trailing slash", path: "/graphql/", body: typename, expect: "yoga" },
  { name: "another path under /graphql", path: "/graphqlx", body: typename, expect: "yoga" },
  { name: "a chunked body", chunked: true, body: typename, expect: "yoga" },
];

describe("GraphQL POST fast path against yoga", () => {
  let fast: Served;
  let yoga: Served;
  beforeAll(async () => {
    [fast, yoga] = await Promise.all([serve(true), serve(false)]);
  });
  afterAll(async () => {
    for (const served of [fast, yoga]) {
      await served.gateway.close();
      await served.listener.close(500);
    }
  });

  it.each(CASES)("answers $name with yoga's bytes", async (c) => {
    const [viaFast, viaYoga] = [await exchange(fast.url, c), await exchange(yoga.url, c)];
    expect(viaFast).toEqual(viaYoga);
    if (c.code) expect(viaFast.body).toContain(`"code":"${c.code}"`);
    if (c.status) expect(viaFast.status).toBe(c.status);
    expect(fast.paths.at(-1)).toBe(c.expect);
    expect(yoga.paths.at(-1)).toBe("yoga");
    // Access log, metrics and the masker's log lines: the same on both paths.
    const last = (s: Served) => {
      const { timestamp, service, response_time, trace_id, stack_trace, ...line } = s.lines.at(-1) ?? {};
      return { line, done: { ...s.done.at(-1), durationMs: 0 } };
    };
    expect(last(fast)).toEqual(last(yoga));
  });

  it("logs an unexpected resolver exception once, before the access log line", async () => {
    const c = { name: "boom", headers: AUTH, body: send("boom"), expect: "fast" } as const;
    for (const served of [fast, yoga]) {
      const before = served.lines.length;
      await exchange(served.url, c);
      const lines = served.lines.slice(before);
      expect(lines.map((l) => l.message)).toEqual(["unexpected error in GraphQL request", "request"]);
      expect(lines[0]?.error_message).toBe("database exploded");
    }
  });

  it("does not log bad variables or an over-limit document as errors", async () => {
    const cases: Case[] = [
      {
        name: "bad variables",
        headers: AUTH,
        body: { query: SEND, variables: { input: 3 } },
        expect: "fast",
      },
      { name: "too many tokens", body: { query: `{ ${"__typename ".repeat(250)}}` }, expect: "fast" },
    ];
    for (const served of [fast, yoga])
      for (const c of cases) {
        const before = served.lines.length;
        await exchange(served.url, c);
        expect(served.lines.slice(before).map((l) => l.message)).toEqual(["request"]);
      }
  });

  it("answers over h2c as yoga does", async () => {
    const h2 = async (base: string) => {
      const session = connectH2(base);
      try {
        return await new Promise<{ headers: Record<string, unknown>; body: string }>((resolve, reject) => {
          const body = JSON.stringify({ query: "{ nope }" });
          const stream = session.request({
            ":method": "POST",
            ":path": "/graphql",
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            accept: "application/graphql-response+json",
            origin: "https://app.example",
          });
          let headers: Record<string, unknown> = {};
          let text = "";
          stream.setEncoding("utf8");
          stream.on("response", (h) => {
            const { date, ...rest } = h;
            headers = rest;
          });
          stream.on("data", (chunk: string) => {
            text += chunk;
          });
          stream.on("end", () => resolve({ headers, body: text }));
          stream.on("error", reject);
          stream.end(body);
        });
      } finally {
        session.close();
      }
    };
    const viaFast = await h2(fast.url);
    expect(viaFast).toEqual(await h2(yoga.url));
    expect(viaFast.headers[":status"]).toBe(400);
    expect(fast.paths.at(-1)).toBe("fast");
  });
});

describe("fast-path eligibility", () => {
  it("takes an object body of string query, object variables and string operationName only", () => {
    expect(fastPathParams({ query: "{ a }", variables: { x: 1 }, operationName: "A" })).toBeDefined();
    expect(fastPathParams({ query: "{ a }", variables: null, operationName: null })).toBeDefined();
    for (const body of [
      null,
      "x",
      [],
      [{ query: "{ a }" }],
      {},
      { query: 1 },
      { query: "{ a }", variables: [] },
      { query: "{ a }", operationName: 1 },
      { query: "{ a }", extensions: {} },
      { query: "{ a }", extra: null },
      { query: "subscription { a }" },
    ])
      expect(fastPathParams(body)).toBeUndefined();
  });

  it("answers an accept with yoga's single JSON media type, or leaves it to yoga", () => {
    expect(singleJsonMediaType(undefined)).toBe("application/json");
    expect(singleJsonMediaType("")).toBe("application/json");
    expect(singleJsonMediaType("*/*")).toBe("application/json");
    expect(singleJsonMediaType("application/*")).toBe("application/json");
    expect(singleJsonMediaType("Application/JSON")).toBe("application/json");
    expect(singleJsonMediaType("application/graphql-response+json, application/json")).toBe(
      "application/graphql-response+json",
    );
    expect(singleJsonMediaType("text/event-stream, */*")).toBe("application/json");
    expect(singleJsonMediaType("text/event-stream")).toBeUndefined();
    expect(singleJsonMediaType("application/json; charset=latin1")).toBeUndefined();
  });
});
