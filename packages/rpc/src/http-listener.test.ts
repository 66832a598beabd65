import { connect as connectH2 } from "node:http2";
import { connect as connectTcp, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpListener, type HttpListener, type RequestDone } from "./http-listener.ts";
import { captureLogger } from "./test-fixtures.ts";

const open: HttpListener[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close(500)));
});

async function start(onRequestDone?: (done: RequestDone) => void) {
  const captured = captureLogger("listener");
  const listener = createHttpListener({
    host: "127.0.0.1",
    port: 0,
    logger: captured.logger,
    ...(onRequestDone ? { onRequestDone } : {}),
  });
  open.push(listener);
  listener.route("/a", (_req, res) => res.end("a"));
  listener.route("/a/b", (_req, res) => res.end("ab"));
  const { url } = await listener.listen();
  const port = Number(new URL(url).port);
  return { listener, url, port, ...captured };
}

function rawExchange(port: number, chunks: (Buffer | string)[], gapMs = 0): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connectTcp(port, "127.0.0.1");
    const received: Buffer[] = [];
    socket.on("data", (d: Buffer) => received.push(d));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(received)));
    socket.once("connect", async () => {
      for (const chunk of chunks) {
        socket.write(chunk);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
      setTimeout(() => socket.end(), 200);
    });
  });
}

function h2Get(url: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const session = connectH2(url);
    session.on("error", reject);
    const stream = session.request({ ":path": path });
    let status = 0;
    let body = "";
    stream.on("response", (headers) => {
      status = Number(headers[":status"]);
    });
    stream.setEncoding("utf8");
    stream.on("data", (d: string) => {
      body += d;
    });
    stream.on("error", reject);
    stream.on("end", () => {
      session.close();
      resolve({ status, body });
    });
  });
}

describe("createHttpListener", () => {
  it("routes HTTP/1.1 by longest prefix, 404s the rest, and access-logs without the query", async () => {
    const done: RequestDone[] = [];
    const { url, lines } = await start((d) => done.push(d));
    expect(await (await fetch(`${url}/a/x`)).text()).toBe("a");
    expect(await (await fetch(`${url}/a/b/c?token=secret`)).text()).toBe("ab");
    const missing = await fetch(`${url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ code: "NOT_FOUND", message: "Not found" });

    const line = lines.find((l) => l.message === "request" && l.request_url === "/a/b/c");
    expect(line).toMatchObject({ request_method: "GET", response_status: 200, protocol: "http/1.1" });
    expect(typeof line?.response_time).toBe("number");
    expect(JSON.stringify(lines)).not.toContain("secret");
    expect(done.map((d) => [d.route, d.status])).toEqual([
      ["/a", 200],
      ["/a/b", 200],
      ["unmatched", 404],
    ]);
  });

  it("hands WebSocket-style upgrades to the upgrade handler", async () => {
    const { listener, port } = await start();
    let seen: { url: string | undefined; head: string } | undefined;
    listener.upgrade("/ws", (req, socket, head) => {
      seen = { url: req.url, head: head.toString() };
      socket.end("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nhi");
    });
    const reply = await rawExchange(port, [
      "GET /ws?token=t HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nearly",
    ]);
    expect(reply.toString()).toMatch(/^HTTP\/1\.1 101 .*hi$/s);
    expect(seen).toEqual({ url: "/ws?token=t", head: "early" });

    const refused = await rawExchange(port, [
      "GET /other HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    ]);
    expect(refused.toString()).toMatch(/^HTTP\/1\.1 404/);
  });

  it("serves cleartext HTTP/2 (prior knowledge) on the same port", async () => {
    const done: RequestDone[] = [];
    const { url, lines } = await start((d) => done.push(d));
    expect(await h2Get(url, "/a/b")).toEqual({ status: 200, body: "ab" });
    expect((await h2Get(url, "/zz")).status).toBe(404);
    expect(lines.find((l) => l.request_url === "/a/b")).toMatchObject({
      protocol: "h2c",
      response_status: 200,
    });
    expect(done[0]).toMatchObject({ route: "/a/b", status: 200 });
    // HTTP/1.1 still works next to it.
    expect(await (await fetch(`${url}/a`)).text()).toBe("a");
  });

  it("detects HTTP/2 when the preface arrives in pieces", async () => {
    const { port } = await start();
    const emptySettings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
    const reply = await rawExchange(port, ["PRI * HTTP", "/2.0\r\n\r\nSM\r\n\r\n", emptySettings], 30);
    // The server answers with its own SETTINGS frame (type 0x4): it is talking HTTP/2.
    expect(reply.length).toBeGreaterThanOrEqual(9);
    expect(reply[3]).toBe(4);
  });

  it("lets an in-flight request finish on close, then refuses new connections", async () => {
    const { listener, url } = await start();
    listener.route("/slow", (_req, res) => {
      setTimeout(() => res.end("done"), 300);
    });
    const h1 = fetch(`${url}/slow`).then((r) => r.text());
    const h2 = h2Get(url, "/slow");
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await listener.close(5_000);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await h1).toBe("done");
    expect(await h2).toEqual({ status: 200, body: "done" });
    await expect(fetch(`${url}/a`)).rejects.toThrow();
  });

  it("destroys what is still running when the grace period ends", async () => {
    const { listener, url } = await start();
    listener.route("/hang", () => undefined);
    const pending = fetch(`${url}/hang`);
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await listener.close(200);
    expect(Date.now() - started).toBeLessThan(1_500);
    await expect(pending).rejects.toThrow();
  });

  it("survives garbage bytes and failing handlers", async () => {
    const { listener, url, port } = await start();
    listener.route("/throws", () => {
      throw new Error("handler bug");
    });
    listener.route("/rejects", async () => {
      throw new Error("async handler bug");
    });
    const garbage = await rawExchange(port, [Buffer.from([0, 1, 2, 255, 13, 10, 13, 10])]);
    expect(garbage.toString()).toMatch(/^HTTP\/1\.1 400/);
    await rawExchange(port, [
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
      Buffer.from("not a frame at all, just junk"),
    ]);
    await rawExchange(port, ["GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n"]);
    expect((await fetch(`${url}/throws`)).status).toBe(500);
    expect((await fetch(`${url}/rejects`)).status).toBe(500);
    expect(await (await fetch(`${url}/a`)).text()).toBe("a");
  });
});
