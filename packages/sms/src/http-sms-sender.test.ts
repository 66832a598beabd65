import { createServer, type IncomingMessage, type Server } from "node:http";
import { Writable } from "node:stream";
import { createLogger } from "@beep/observability";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSmsSender } from "./create-sms-sender.ts";

// A real HTTP gateway on loopback that records what it receives.
const requests: Array<{ method?: string; path?: string; auth?: string; type?: string; body: unknown }> = [];
let status = 202;
let server: Server;
let base = "";

const read = async (request: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
};

beforeAll(async () => {
  server = createServer(async (request, response) => {
    requests.push({
      method: request.method,
      path: request.url,
      auth: request.headers.authorization,
      type: request.headers["content-type"],
      body: JSON.parse(await read(request)),
    });
    response.writeHead(status).end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const logger = createLogger({ service: "sms-test", level: "silent" });

describe("http:// SMS sender against a local gateway", () => {
  it("POSTs {to, text} as JSON with the bearer token", async () => {
    status = 202;
    const sms = createSmsSender({ url: `${base}/v1/sms`, token: "gw-token", logger });
    await sms.send({ to: "+33612345678", text: "Beep: 123456 — code de connexion" });
    expect(requests.at(-1)).toEqual({
      method: "POST",
      path: "/v1/sms",
      auth: "Bearer gw-token",
      type: "application/json",
      body: { to: "+33612345678", text: "Beep: 123456 — code de connexion" },
    });
  });

  it("rejects naming the status when the gateway refuses", async () => {
    status = 503;
    const sms = createSmsSender({ url: `${base}/v1/sms`, token: "", logger });
    await expect(sms.send({ to: "+15550000000", text: "x" })).rejects.toThrow("gateway answered 503");
    expect(requests.at(-1)?.auth).toBeUndefined();
  });

  it("rejects when nothing listens", async () => {
    const sms = createSmsSender({ url: "http://127.0.0.1:1/sms", token: "", logger });
    await expect(sms.send({ to: "+15550000000", text: "x" })).rejects.toThrow("send sms to +15550000000");
  });
});

describe("log:// SMS sender", () => {
  it("logs the recipient, never the text", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(String(chunk));
        callback();
      },
    });
    const sms = createSmsSender({
      url: "log://",
      token: "",
      logger: createLogger({ service: "t", destination }),
    });
    await sms.send({ to: "+33612345678", text: "code 424242" });
    expect(lines.join("")).toContain("+33612345678");
    expect(lines.join("")).not.toContain("424242");
  });

  it("refuses an unknown scheme", () => {
    expect(() => createSmsSender({ url: "twilio://x", token: "", logger })).toThrow(
      'unknown scheme "twilio"',
    );
  });
});
