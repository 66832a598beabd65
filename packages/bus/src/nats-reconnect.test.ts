import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@beep/observability";
import { afterAll, describe, expect, it } from "vitest";
import { sleep, testEvent, waitUntil } from "./bus.conformance.ts";
import { openBus } from "./open-bus.ts";

// Runs a private nats-server (never the shared one) so it can be stopped and restarted.
const NATS_SERVER = process.env.BEEP_TEST_NATS_SERVER ?? "/usr/sbin/nats-server";
const logger = createLogger({ service: "bus-test", level: "silent" });
const storeDir = mkdtempSync(join(tmpdir(), "beep-nats-"));
let server: ChildProcess | undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const address = s.address();
      s.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

async function startServer(port: number): Promise<void> {
  server = spawn(NATS_SERVER, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir], {
    stdio: "ignore",
  });
  await sleep(500);
}

async function stopServer(): Promise<void> {
  const s = server;
  server = undefined;
  if (!s || s.exitCode !== null) return;
  const exited = new Promise((resolve) => s.once("exit", resolve));
  s.kill("SIGTERM");
  await exited;
}

afterAll(async () => {
  await stopServer();
  rmSync(storeDir, { recursive: true, force: true });
});

describe("nats driver across a server restart", () => {
  it("keeps durable groups and fan-out working after reconnecting", async () => {
    const port = await freePort();
    await startServer(port);
    const bus = await openBus(`nats://127.0.0.1:${port}`, { logger, name: "restart", prefix: "restart" });
    const durable: string[] = [];
    const fanned: string[] = [];
    await bus.consume("survivor", ["job.*"], async (e) => void durable.push(e.id));
    await bus.subscribe(["job.*"], (e) => void fanned.push(e.id));
    const before = testEvent("job.a");
    await bus.publish(before);
    await waitUntil(() => durable.length === 1, 5_000, "delivery before restart");

    await stopServer();
    await expect(bus.publish(testEvent("job.lost"))).rejects.toThrow();
    await startServer(port);

    // The relay's retry loop in miniature: publish until the reconnected server accepts.
    const after = testEvent("job.b");
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await bus.publish(after);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(200);
      }
    }
    await waitUntil(() => durable.includes(after.id), 15_000, "durable delivery after restart");
    await waitUntil(() => fanned.includes(after.id), 5_000, "fan-out after restart");
    expect(durable).toEqual([before.id, after.id]);
    await bus.close();
  }, 60_000);
});
