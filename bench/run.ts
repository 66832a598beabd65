// `npm run bench`: prints the benchmark figures of one run on this machine.
// Figures are ratios and percentiles from a single run (the machine is shared
// and noisy); nothing here is a pass/fail test.
import { cpus, totalmem } from "node:os";
import { benchPermissions } from "./permissions.bench.ts";
import { benchRpcHop } from "./rpc-hop.bench.ts";

const round = (value: number) => Math.round(value * 100) / 100;

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
process.stdout.write(`Beep benchmarks — ${new Date().toISOString()} — ${machine}\n\n`);

const hop = await benchRpcHop();
process.stdout.write("RPC hop (Echo, 20,000 calls, 32 in flight)\n");
for (const [name, figures] of [
  ["in-process router transport", hop.inProcess],
  ["gRPC over h2c on loopback", hop.grpc],
] as const) {
  process.stdout.write(
    `  ${name.padEnd(30)} ${Math.round(figures.callsPerSecond).toLocaleString("en")} calls/s   p50 ${round(figures.p50Ms)} ms   p99 ${round(figures.p99Ms)} ms\n`,
  );
}
process.stdout.write(`  in-process / network throughput: ${round(hop.ratio)}×\n`);

const permissions = benchPermissions();
process.stdout.write(
  `\nPermissions: computeChannelPermissions, 5 roles, 8 overwrites\n  ${Math.round(permissions.opsPerSecond).toLocaleString("en")} ops/s   ${round(permissions.nsPerOp)} ns/op\n`,
);
process.stdout.write(await (await import("./permission-cache.bench.ts")).permissionCacheReport());
