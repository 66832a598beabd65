import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type BenchDeployment, cpuMsOf } from "./lib/beep-deployment.ts";
import { community } from "./lib/community.ts";
import { GraphqlSender } from "./lib/graphql-sender.ts";
import { percentile, sleep } from "./lib/stats.ts";
import { benchContent, type StreamClients } from "./lib/stream-clients.ts";

/** Deliveries per second of one way of broadcasting, measured at the clients. */
export interface BroadcastFigures {
  connections: number;
  /** True when an open connection stopped receiving for 15 s and the run was cut short. */
  stalled: boolean;
  messages: number;
  deliveriesPerSecond: number;
  deliverP50Ms: number;
  deliverP99Ms: number;
  /** CPU time (user + system) of the broadcasting process per delivery: steadier than the rate here. */
  cpuUsPerDelivery: number;
}

export interface FanoutFigures {
  members: number;
  frameBytes: number;
  beep: BroadcastFigures;
  raw: BroadcastFigures;
  ratio: number;
}

/**
 * Keeps at most `window` messages ahead of the slowest connection (every socket of every client process
 * must have received message i before message i + window is sent): a closed loop over the whole fan-out,
 * so the rate is what the server sustains, not what its buffers absorb. Up to `window` publishes are in
 * flight at once (the Beep side's sends are not serialised behind each other's acks).
 */
async function broadcastLoop(
  clients: StreamClients,
  seconds: number,
  window: number,
  firstIndex: number,
  publish: (index: number) => Promise<void>,
  serverPid: number,
): Promise<{
  messages: number;
  deliveriesPerSecond: number;
  latencies: number[];
  stalled: boolean;
  cpuUsPerDelivery: number;
}> {
  await clients.reset();
  const cpuBefore = await cpuMsOf(serverPid);
  const began = performance.now();
  const stopAt = began + seconds * 1000;
  let sent = firstIndex;
  let lastProgress = performance.now();
  let lastSlowest = clients.slowest();
  let stalled = false;
  const inFlight = new Set<Promise<unknown>>();
  while (performance.now() < stopAt) {
    const slowest = clients.slowest();
    if (slowest !== lastSlowest) {
      lastSlowest = slowest;
      lastProgress = performance.now();
    }
    if (performance.now() - lastProgress > 15_000) {
      stalled = true; // an open connection stopped receiving: stop and say so
      break;
    }
    if (sent - Math.max(slowest, firstIndex) < window) {
      // Not awaited: up to `window` sends in flight, so the rate is not one send's ack latency.
      const publishing = publish(++sent)
        .catch(() => undefined)
        .finally(() => inFlight.delete(publishing));
      inFlight.add(publishing);
    } else {
      await sleep(1);
    }
  }
  await Promise.all(inFlight);
  // A stall is not counted as time spent delivering: the rate runs to the last progress.
  const elapsed = ((stalled ? lastProgress : performance.now()) - began) / 1000;
  const cpuMs = (await cpuMsOf(serverPid)) - cpuBefore;
  const { received, latencies } = await clients.report();
  return {
    messages: sent - firstIndex,
    deliveriesPerSecond: received / elapsed,
    latencies,
    stalled,
    cpuUsPerDelivery: (cpuMs * 1000) / Math.max(1, received),
  };
}

/**
 * Fan-out to one channel of `members` members connected through the real gateway, next to a bare `ws`
 * server broadcasting a pre-serialised frame of the same size to the same number of connections from the
 * same client processes, in the same run.
 */
export async function benchFanout(
  beep: BenchDeployment,
  clients: StreamClients,
  members: number,
  seconds: number,
  window = 4,
): Promise<FanoutFigures> {
  const room = await community(beep, clients, members - 1, "fanout");
  const sender = new GraphqlSender(beep.url);
  let frameSample = "";
  let beepFigures: BroadcastFigures;
  try {
    // Warm-up (and a sample frame for the raw server's template).
    await broadcastLoop(
      clients,
      2,
      window,
      10_000_000,
      async (index) => {
        await sender.send(room.owner.token, room.channelId, benchContent(index));
      },
      beep.pid,
    );
    await sleep(500);
    frameSample = (await clients.report()).frameSample;
    const run = await broadcastLoop(
      clients,
      seconds,
      window,
      20_000_000,
      async (index) => {
        await sender.send(room.owner.token, room.channelId, benchContent(index));
      },
      beep.pid,
    );
    beepFigures = {
      connections: room.connected,
      stalled: run.stalled,
      messages: run.messages,
      deliveriesPerSecond: run.deliveriesPerSecond,
      deliverP50Ms: percentile(run.latencies, 0.5),
      deliverP99Ms: percentile(run.latencies, 0.99),
      cpuUsPerDelivery: run.cpuUsPerDelivery,
    };
  } finally {
    sender.close();
    await clients.disconnect();
  }
  await sleep(1_000);

  const raw = await startRawServer(frameSample.replace(/bench \d+ [\d.]+/, "BENCH_CONTENT"));
  try {
    const connected = await clients.connect(
      `ws://127.0.0.1:${raw.port}`,
      Array.from({ length: room.connected }, () => ""),
      false,
    );
    const publish = async (index: number) => {
      raw.child.send({ type: "broadcast", index, sentAt: performance.timeOrigin + performance.now() });
    };
    const rawPid = raw.child.pid ?? 0;
    await broadcastLoop(clients, 2, window, 10_000_000, publish, rawPid);
    const run = await broadcastLoop(clients, seconds, window, 20_000_000, publish, rawPid);
    const rawFigures = {
      connections: connected,
      stalled: run.stalled,
      messages: run.messages,
      deliveriesPerSecond: run.deliveriesPerSecond,
      deliverP50Ms: percentile(run.latencies, 0.5),
      deliverP99Ms: percentile(run.latencies, 0.99),
      cpuUsPerDelivery: run.cpuUsPerDelivery,
    };
    return {
      members,
      frameBytes: Buffer.byteLength(frameSample),
      beep: beepFigures,
      raw: rawFigures,
      ratio: beepFigures.deliveriesPerSecond / rawFigures.deliveriesPerSecond,
    };
  } finally {
    await clients.disconnect();
    raw.child.kill();
  }
}

async function startRawServer(template: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(new URL("./lib/raw-ws-server.worker.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const port = await new Promise<number>((resolve) =>
    child.on("message", (message: { type: string; port?: number }) => {
      if (message.type === "listening") resolve(message.port ?? 0);
    }),
  );
  await new Promise<void>((resolve) => {
    child.once("message", () => resolve());
    child.send({ type: "template", template });
  });
  return { child, port };
}
