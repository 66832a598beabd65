import type { BenchDeployment } from "./lib/beep-deployment.ts";
import type { Community } from "./lib/community.ts";
import { DiskStallMonitor, type DiskStalls } from "./lib/disk-stall-monitor.ts";
import { GraphqlSender } from "./lib/graphql-sender.ts";
import { percentile, sleep } from "./lib/stats.ts";
import { benchContent, type StreamClients } from "./lib/stream-clients.ts";

/** Figures of the fixed-rate latency bench. */
export interface LatencyFigures {
  targetPerSecond: number;
  achievedPerSecond: number;
  deliveries: number;
  errors: number;
  deliverP50Ms: number;
  deliverP99Ms: number;
  deliverMaxMs: number;
  ackP50Ms: number;
  ackP99Ms: number;
  /** The disk's flushes over 50 ms while the sends ran. */
  disk: DiskStalls;
}

/**
 * Send→deliver latency at a fixed rate (open loop: sends start on schedule whether or not earlier ones
 * finished), round-robin over the senders; latency runs from the send call to the frame's arrival at each
 * subscriber, so one send gives one sample per connected member.
 */
export async function benchLatency(
  beep: BenchDeployment,
  clients: StreamClients,
  room: Community,
  seconds: number,
  perSecond = 1_000,
): Promise<LatencyFigures> {
  const sender = new GraphqlSender(beep.url);
  let index = 2_000_000;
  const acks: number[] = [];
  let errors = 0;
  const pending = new Set<Promise<void>>();
  let monitor: DiskStallMonitor | undefined;
  try {
    await clients.reset();
    monitor = new DiskStallMonitor();
    const began = performance.now();
    let started = 0;
    const total = Math.round(seconds * perSecond);
    while (started < total) {
      const due = Math.min(total, Math.floor(((performance.now() - began) / 1000) * perSecond));
      for (; started < due; started++) {
        const member = room.members[started % room.members.length]!;
        const sending = sender
          .send(member.token, room.channelId, benchContent(++index))
          .then(
            (ack) => void acks.push(ack),
            () => void errors++,
          )
          .finally(() => pending.delete(sending));
        pending.add(sending);
      }
      await sleep(1);
    }
    const sendSeconds = (performance.now() - began) / 1000;
    await Promise.all(pending);
    await sleep(500); // the last deliveries
    const disk = await monitor.stop();
    monitor = undefined;
    const { received, latencies } = await clients.report();
    return {
      targetPerSecond: perSecond,
      achievedPerSecond: total / sendSeconds,
      deliveries: received,
      errors,
      deliverP50Ms: percentile(latencies, 0.5),
      deliverP99Ms: percentile(latencies, 0.99),
      deliverMaxMs: percentile(latencies, 1),
      ackP50Ms: percentile(acks, 0.5),
      ackP99Ms: percentile(acks, 0.99),
      disk,
    };
  } finally {
    await monitor?.stop();
    sender.close();
  }
}
