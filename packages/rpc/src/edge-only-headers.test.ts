import { request } from "node:http";
import { connect as connectH2 } from "node:http2";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpListener, type HttpListener } from "./http-listener.ts";
import { captureLogger } from "./test-fixtures.ts";

const open: HttpListener[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close(500)));
});

async function start() {
  const listener = createHttpListener({ host: "127.0.0.1", port: 0, logger: captureLogger("edge").logger });
  open.push(listener);
  // Echoes what a route handler sees of the headers.
  listener.route("/echo", (req, res) =>
    res.end(
      JSON.stringify({ claim: req.headers["x-user-claim"] ?? null, other: req.headers["x-other"] ?? null }),
    ),
  );
  const seenOnUpgrade: Array<string | undefined> = [];
  listener.upgrade("/ws", (req, socket) => {
    seenOnUpgrade.push(req.headers["x-user-claim"] as string | undefined);
    socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
  });
  const { url } = await listener.listen();
  return { url, seenOnUpgrade };
}

describe("edge-only headers", () => {
  it("never lets a route handler see a client-sent X-User-Claim (HTTP/1.1)", async () => {
    const { url } = await start();
    const response = await fetch(`${url}/echo`, {
      headers: { "X-User-Claim": '{"userId":"1","sessionId":"1"}', "x-other": "kept" },
    });
    expect(await response.json()).toEqual({ claim: null, other: "kept" });
  });

  it("strips it on HTTP/2 and on WebSocket upgrades too", async () => {
    const { url, seenOnUpgrade } = await start();
    const body = await new Promise<string>((resolve, reject) => {
      const session = connectH2(url);
      session.on("error", reject);
      const stream = session.request({ ":path": "/echo", "x-user-claim": "forged" });
      let text = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        text += chunk;
      });
      stream.on("end", () => {
        session.close();
        resolve(text);
      });
    });
    expect(JSON.parse(body)).toEqual({ claim: null, other: null });

    await new Promise<void>((resolve) => {
      const req = request(`${url}/ws`, {
        headers: { connection: "Upgrade", upgrade: "websocket", "x-user-claim": "forged" },
      });
      req.on("response", () => resolve());
      req.on("error", () => resolve());
      req.on("close", () => resolve());
      req.end();
    });
    expect(seenOnUpgrade).toEqual([undefined]);
  });
});
