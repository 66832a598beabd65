import { type BenchDeployment, cpuMsOf } from "./lib/beep-deployment.ts";
import type { Community } from "./lib/community.ts";
import { GraphqlSender } from "./lib/graphql-sender.ts";
import { percentile, sleep } from "./lib/stats.ts";
import { benchContent, type StreamClients } from "./lib/stream-clients.ts";

/** Figures of the sustained-sends bench. */
export interface SendsFigures {
  senders: number;
  inFlightPerSender: number;
  seconds: number;
  sends: number;
  errors: number;
  sendsPerSecond: number;
  deliveriesPerSecond: number;
  ackP50Ms: number;
  ackP99Ms: number;
  /** CPU time the Beep process used per acknowledged send (its deliveries included), in ms. */
  beepCpuMsPerSend: number;
  firstError?: string;
}

/**
 * Sustained sends: every member but the owner sends into #general as fast as it can (closed loop,
 * `inFlight` sends outstanding per sender) for `seconds`; every member, owner included, is connected to
 * the `events` stream, and deliveries are counted at the clients.
 */
export async function benchSends(
  beep: BenchDeployment,
  clients: StreamClients,
  room: Community,
  seconds: number,
  inFlight = 4,
): Promise<SendsFigures> {
  const sender = new GraphqlSender(beep.url);
  let index = 1_000_000;
  const run = async (duration: number, record: boolean) => {
    const acks: number[] = [];
    let errors = 0;
    let firstError: string | undefined;
    const stopAt = performance.now() + duration * 1000;
    await Promise.all(
      room.members.flatMap((member) =>
        Array.from({ length: inFlight }, async () => {
          while (performance.now() < stopAt) {
            try {
              const ack = await sender.send(member.token, room.channelId, benchContent(++index));
              if (record) acks.push(ack);
            } catch (error) {
              errors++;
              firstError ??= String(error);
              await sleep(10);
            }
          }
        }),
      ),
    );
    return { acks, errors, firstError };
  };
  try {
    await run(Math.min(2, seconds / 3), false); // warm-up: JIT, pools, caches
    await sleep(300);
    await clients.reset();
    const cpuBefore = await cpuMsOf(beep.pid);
    const began = performance.now();
    const { acks, errors, firstError } = await run(seconds, true);
    const elapsed = (performance.now() - began) / 1000;
    const cpuMs = (await cpuMsOf(beep.pid)) - cpuBefore;
    // Deliveries of the last sends are still in flight: count what arrived within the measured interval.
    const { received } = await clients.report();
    return {
      senders: room.members.length,
      inFlightPerSender: inFlight,
      seconds: elapsed,
      sends: acks.length,
      errors,
      sendsPerSecond: acks.length / elapsed,
      deliveriesPerSecond: received / elapsed,
      ackP50Ms: percentile(acks, 0.5),
      ackP99Ms: percentile(acks, 0.99),
      beepCpuMsPerSend: cpuMs / Math.max(1, acks.length),
      ...(firstError ? { firstError } : {}),
    };
  } finally {
    sender.close();
  }
}
