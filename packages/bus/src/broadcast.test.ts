import { randomBytes } from "node:crypto";
import { createLogger } from "@beep/observability";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";
import { sleep, testEvent, waitUntil } from "./bus.conformance.ts";
import type { Bus, BusEvent } from "./bus.ts";
import { MemoryBus } from "./memory.bus.ts";
import { natsStreamName } from "./nats.bus.ts";
import { openBus } from "./open-bus.ts";

const NATS_URL = process.env.BEEP_TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const logger = createLogger({ service: "bus-broadcast-test", level: "silent" });
const prefix = `b${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;

afterAll(async () => {
  const nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(natsStreamName(prefix)).catch(() => false);
  await nc.close();
});

const drivers: Array<[string, () => Promise<Bus>]> = [
  ["memory://", async () => new MemoryBus(logger)],
  ["nats://", () => openBus(NATS_URL, { logger, name: "broadcast-test", prefix, maxAgeMs: 3_600_000 })],
];

describe.each(drivers)("Bus.broadcast on %s", (_name, open) => {
  it("reaches ephemeral subscribers only: never fan-out subscribers nor durable groups", async () => {
    const bus = await open();
    const ephemeral: BusEvent[] = [];
    const durable: BusEvent[] = [];
    const fanout: BusEvent[] = [];
    await bus.consume("typing-durable", ["typing.*"], async (event) => void durable.push(event));
    await bus.subscribe(["typing.*"], (event) => void fanout.push(event));
    await bus.subscribeEphemeral(["typing.*"], (event) => void ephemeral.push(event));
    const event = testEvent("typing.started", { channelId: "1", userId: "2" });
    await bus.broadcast(event);
    await waitUntil(() => ephemeral.length === 1, 5_000, "ephemeral delivery");
    expect(ephemeral[0]).toEqual(event);
    await sleep(200);
    expect(durable).toEqual([]);
    expect(fanout).toEqual([]);
    await bus.close();
  });
});
