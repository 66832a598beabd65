import { randomBytes } from "node:crypto";
import { createLogger } from "@beep/observability";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";
import { describeBusConformance, sleep, testEvent, waitUntil } from "./bus.conformance.ts";
import type { Bus, BusEvent } from "./bus.ts";
import { natsStreamName } from "./nats.bus.ts";
import { openBus } from "./open-bus.ts";

const NATS_URL = process.env.BEEP_TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const logger = createLogger({ service: "bus-test", level: "silent" });
// Unique per run so parallel runs and leftovers from crashed runs never meet.
const run = `t${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
const prefixes: string[] = [];
let counter = 0;

function newPrefix(): string {
  const prefix = `${run}_${counter++}`;
  prefixes.push(prefix);
  return prefix;
}

function openNats(prefix: string, name = "test"): Promise<Bus> {
  return openBus(NATS_URL, { logger, name, prefix, maxAgeMs: 3_600_000 });
}

afterAll(async () => {
  const nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  for (const p of prefixes) await jsm.streams.delete(natsStreamName(p)).catch(() => false);
  await nc.close();
});

const prefixOf = new WeakMap<Bus, string>();
async function openNatsFresh(): Promise<Bus> {
  const prefix = newPrefix();
  const bus = await openNats(prefix);
  prefixOf.set(bus, prefix);
  return bus;
}

describeBusConformance("nats://", openNatsFresh, {
  quietMs: 500,
  openPeer: (bus) => openNats(prefixOf.get(bus)!, "peer"),
});

describe("nats driver", () => {
  it("is distributed and reports a bad server with context", async () => {
    const bus = await openNats(newPrefix());
    expect(bus.distributed).toBe(true);
    await bus.close();
    await expect(
      openBus("nats://127.0.0.1:1", { logger, name: "test", prefix: newPrefix() }),
    ).rejects.toThrow(/open bus nats:\/\/127\.0\.0\.1:1/);
  });

  it("shares a group across processes (connections): each event once", async () => {
    const prefix = newPrefix();
    const buses = [await openNats(prefix, "proc-a"), await openNats(prefix, "proc-b")];
    const seen: string[] = [];
    const perProcess = [0, 0];
    for (const [i, bus] of buses.entries()) {
      await bus.consume("shared", ["job.*"], async (e) => {
        perProcess[i]! += 1;
        seen.push(e.id);
        await sleep(5);
      });
    }
    const sent = Array.from({ length: 60 }, () => testEvent("job.run"));
    for (const e of sent) await buses[0]!.publish(e);
    await waitUntil(() => seen.length >= sent.length, 15_000, "all jobs");
    await sleep(500);
    expect(seen.sort()).toEqual(sent.map((e) => e.id).sort());
    expect(perProcess[0]).toBeGreaterThan(0);
    expect(perProcess[1]).toBeGreaterThan(0);
    // Fan-out from one process reaches the other.
    const fanned: BusEvent[] = [];
    await buses[1]!.subscribe(["ping"], (e) => void fanned.push(e));
    await buses[0]!.publish(testEvent("ping"));
    await waitUntil(() => fanned.length === 1, 5_000, "cross-process fan-out");
    await Promise.all(buses.map((b) => b.close()));
  });

  it("drops a republished event id within the duplicate window", async () => {
    const bus = await openNats(newPrefix());
    const got: string[] = [];
    await bus.consume("dedupe", ["a.b"], async (e) => void got.push(e.id));
    const e = testEvent("a.b");
    await bus.publish(e);
    await bus.publish(e);
    await waitUntil(() => got.length === 1, 5_000, "delivery");
    await sleep(500);
    expect(got).toEqual([e.id]);
    await bus.close();
  });

  it("follows a group's changed patterns without losing or replaying its position", async () => {
    const prefix = newPrefix();
    const bus1 = await openNats(prefix);
    await bus1.publish(testEvent("user.created", { before: "group existed" }));
    const first: string[] = [];
    const one = await bus1.consume("evolving", ["user.created"], async (e) => void first.push(e.type));
    await bus1.publish(testEvent("user.created"));
    await waitUntil(() => first.length === 1, 5_000, "first delivery");
    await one.close();
    const got: string[] = [];
    const two = await bus1.consume(
      "evolving",
      ["user.created", "user.deleted"],
      async (e) => void got.push(e.type),
    );
    await bus1.publish(testEvent("user.deleted"));
    await bus1.publish(testEvent("user.updated"));
    await bus1.publish(testEvent("user.created"));
    await waitUntil(() => got.length >= 2, 5_000, "delivery after pattern change");
    await sleep(500);
    expect(got).toEqual(["user.deleted", "user.created"]);
    await two.close();
    await bus1.close();
  });
});
