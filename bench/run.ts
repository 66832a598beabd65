// `npm run bench`: prints the benchmark figures of one run on this machine (`-- --quick` for a short run).
// Figures are ratios and percentiles from a single run (the machine is shared
// and noisy); nothing here is a pass/fail test.
import { cpus, loadavg, totalmem } from "node:os";
import { benchConnections } from "./connections.bench.ts";
import { benchFanout } from "./fanout.bench.ts";
import { benchLatency } from "./latency.bench.ts";
import { BenchDeployment } from "./lib/beep-deployment.ts";
import { community } from "./lib/community.ts";
import { int, round } from "./lib/stats.ts";
import { StreamClients } from "./lib/stream-clients.ts";
import { benchPermissions } from "./permissions.bench.ts";
import { benchRpcHop } from "./rpc-hop.bench.ts";
import { benchSends } from "./sends.bench.ts";

const quick = process.argv.includes("--quick");
// `-- --only=sends,latency,fanout,held,micro` runs a subset (for profiling one bench); default: all.
const onlyArg = process.argv.find((arg) => arg.startsWith("--only="));
const only = new Set(onlyArg ? onlyArg.slice("--only=".length).split(",") : []);
const runs = (name: string) => only.size === 0 || only.has(name);
/** Sizes of one run: the full run follows issue 5; --quick is a smoke run of the same code. */
const plan = quick
  ? { seconds: 3, fanoutMembers: 2_000, fanoutProcesses: 2, held: 3_000, heldProcesses: 2 }
  : { seconds: 10, fanoutMembers: 10_000, fanoutProcesses: 4, held: 15_000, heldProcesses: 6 };

const out = (text: string) => process.stdout.write(text);
const load = () =>
  `load average ${loadavg()
    .map((value) => round(value, 2))
    .join(" ")}`;
const mib = (bytes: number) => `${round(bytes / 2 ** 20)} MiB`;

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
out(`Beep benchmarks${quick ? " (--quick)" : ""} — ${new Date().toISOString()} — ${machine}\n`);
out(`Load generator and Beep share this machine; ${load()} at start.\n\n`);

if (runs("micro")) {
  const hop = await benchRpcHop();
  out("RPC hop (Echo, 20,000 calls, 32 in flight)\n");
  for (const [name, figures] of [
    ["in-process direct call", hop.inProcess],
    ["Connect over h2c on loopback", hop.network],
    ["(gRPC over h2c on loopback)", hop.grpc],
  ] as const) {
    out(
      `  ${name.padEnd(30)} ${int(figures.callsPerSecond)} calls/s   p50 ${round(figures.p50Ms, 2)} ms   p99 ${round(figures.p99Ms, 2)} ms\n`,
    );
  }
  out(`  in-process / network throughput: ${round(hop.ratio, 2)}×\n`);
  out(
    `  Connect / gRPC throughput (the factory's network protocol, ADR 0008): ${round(hop.network.callsPerSecond / hop.grpc.callsPerSecond, 2)}×\n`,
  );

  const permissions = benchPermissions();
  out(
    `\nPermissions: computeChannelPermissions, 5 roles, 8 overwrites\n  ${int(permissions.opsPerSecond)} ops/s   ${round(permissions.nsPerOp, 2)} ns/op\n`,
  );
  out(await (await import("./permission-cache.bench.ts")).permissionCacheReport());
}

// Issue 5's targets: beep --target=all (child process) on the machine's PostgreSQL in a fresh database,
// memory bus; clients connect over graphql-ws (graphql-transport-ws) from separate processes.
out("\nMessages and the real-time stream (beep --target=all, PostgreSQL 127.0.0.1:5432, memory bus)\n");
const beep = await BenchDeployment.start();
out(`  ${await beep.postgresSettings()}\n`);
try {
  if (runs("sends") || runs("latency")) {
    const roomClients = new StreamClients(1);
    try {
      const room = await community(beep, roomClients, 20, "bench");
      if (runs("sends")) {
        const sends = await benchSends(beep, roomClients, room, plan.seconds);
        out(
          `  Sustained sends: ${sends.senders} senders × ${sends.inFlightPerSender} in flight, ${room.connected} of 21 members on the events stream, ${round(sends.seconds)} s\n` +
            `    ${int(sends.sendsPerSecond)} sends/s (target ≥ 4,600: ${round((sends.sendsPerSecond / 4_600) * 100)}%)   ${int(sends.deliveriesPerSecond)} deliveries/s   ack p50 ${round(sends.ackP50Ms)} ms   p99 ${round(sends.ackP99Ms)} ms   Beep CPU ${round(sends.beepCpuMsPerSend, 2)} ms per send   errors ${sends.errors}${sends.firstError ? ` (${sends.firstError.slice(0, 120)})` : ""}\n` +
            `    ${load()}\n`,
        );
      }
      if (runs("latency")) {
        // The issue's rate, then 200 msg/s: below what one process sustains here, so the figure is the
        // path's own latency rather than queueing.
        for (const perSecond of [1_000, 200]) {
          const latency = await benchLatency(beep, roomClients, room, plan.seconds, perSecond);
          out(
            `  Send→deliver latency at a fixed ${int(latency.targetPerSecond)} msg/s (open loop, ${int(latency.achievedPerSecond)} msg/s started, ${int(latency.deliveries)} deliveries)\n` +
              `    p50 ${round(latency.deliverP50Ms)} ms   p99 ${round(latency.deliverP99Ms)} ms (target ≤ 50 ms at 1,000 msg/s: ${round(latency.deliverP99Ms / 50, 2)}× the target)   max ${round(latency.deliverMaxMs)} ms   ack p50 ${round(latency.ackP50Ms)} ms   p99 ${round(latency.ackP99Ms)} ms   errors ${latency.errors}\n` +
              `    disk meanwhile: ${latency.disk.stalls} of ${int(latency.disk.syncs)} 8 KiB flushes over 50 ms (max ${round(latency.disk.maxMs)} ms)   ${load()}\n`,
          );
        }
      }
      await roomClients.disconnect();
    } finally {
      await roomClients.stop();
    }
  }
  if (runs("fanout")) {
    const fanoutClients = new StreamClients(plan.fanoutProcesses);
    try {
      const fanout = await benchFanout(beep, fanoutClients, plan.fanoutMembers, plan.seconds);
      out(
        `  Fan-out to one channel of ${int(fanout.members)} members (${plan.fanoutProcesses} client processes, ≤ 4 messages ahead of the slowest socket, ${fanout.frameBytes}-byte frames)\n` +
          `    Beep gateway  ${int(fanout.beep.deliveriesPerSecond)} deliveries/s over ${int(fanout.beep.connections)} connections (${fanout.beep.messages} messages${fanout.beep.stalled ? ", STALLED: a connection stopped receiving" : ""})   deliver p50 ${round(fanout.beep.deliverP50Ms)} ms   p99 ${round(fanout.beep.deliverP99Ms)} ms   CPU ${round(fanout.beep.cpuUsPerDelivery, 2)} µs per delivery\n` +
          `    raw ws        ${int(fanout.raw.deliveriesPerSecond)} deliveries/s over ${int(fanout.raw.connections)} connections (${fanout.raw.messages} messages${fanout.raw.stalled ? ", STALLED: a connection stopped receiving" : ""})   deliver p50 ${round(fanout.raw.deliverP50Ms)} ms   p99 ${round(fanout.raw.deliverP99Ms)} ms   CPU ${round(fanout.raw.cpuUsPerDelivery, 2)} µs per delivery\n` +
          `    Beep / raw ws ceiling: ${round(fanout.ratio * 100)}% (target ≥ 70%); CPU per delivery raw / Beep: ${round((fanout.raw.cpuUsPerDelivery / fanout.beep.cpuUsPerDelivery) * 100)}%\n` +
          `    ${load()}\n`,
      );
    } finally {
      await fanoutClients.stop();
    }
  }
} finally {
  await beep.stop();
}

if (runs("held")) {
  // A fresh process, so the RSS delta is the connections' and not earlier traffic's.
  const heldBeep = await BenchDeployment.start();
  const heldClients = new StreamClients(plan.heldProcesses);
  try {
    const held = await benchConnections(heldBeep, heldClients, plan.held, quick ? 6 : 20);
    out(
      `  Held connections: ${int(held.held)} of ${int(held.attempted)} idle authenticated events subscriptions on one process (${plan.heldProcesses} client processes)\n` +
        `    RSS ${mib(held.rssBeforeBytes)} → ${mib(held.rssAfterBytes)}: ${round(held.bytesPerConnection / 1024)} KiB per connection (V8 heap ${round(held.heapBytesPerConnection / 1024)} KiB of it; lowest of readings over ${quick ? 6 : 20} s)\n` +
        `    projected for 50,000 connections: ${mib(held.projected50kBytes)} (target < 2 GiB: ${round((held.projected50kBytes / 2 ** 31) * 100)}% of it) — a projection: this sandbox allows 20,000 open files per process\n`,
    );
  } finally {
    await heldClients.stop();
    await heldBeep.stop();
  }
}
