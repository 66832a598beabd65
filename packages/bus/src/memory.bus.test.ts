import { createLogger } from "@beep/observability";
import { describe, expect, it } from "vitest";
import { describeBusConformance, sleep, testEvent, waitUntil } from "./bus.conformance.ts";
import { openBus } from "./open-bus.ts";

const logger = createLogger({ service: "bus-test", level: "silent" });

describeBusConformance("memory://", () => openBus("memory://", { logger, name: "test" }));

describe("openBus", () => {
  it("opens a non-distributed memory bus", async () => {
    const bus = await openBus("memory://", { logger, name: "test" });
    expect(bus.distributed).toBe(false);
    await bus.close();
  });

  it("rejects an unknown scheme and lists the valid ones, without leaking passwords", async () => {
    await expect(openBus("kafka://u:secret@host:9092", { logger, name: "test" })).rejects.toThrow(
      /unknown bus URL .*kafka:\/\/u:\*\*\*@host.*memory:\/\/, nats:\/\/host:port/,
    );
    await expect(openBus("", { logger, name: "test" })).rejects.toThrow(/valid schemes/);
  });
});

describe("MemoryBus routing by event type", () => {
  it("follows subscriptions made, changed and closed after a type was already routed", async () => {
    const bus = await openBus("memory://", { logger, name: "test" });
    try {
      const seen: string[] = [];
      // Routes "chat.sent" before anyone listens: remembered as going nowhere.
      await bus.publish(testEvent("chat.sent", { n: 0 }));
      const fanout = await bus.subscribe(
        ["chat.*"],
        (e) => void seen.push(`fanout ${(e.payload as { n: number }).n}`),
      );
      const follow = await bus.follow(
        [">"],
        (e) => void seen.push(`follow ${(e.payload as { n: number }).n}`),
      );
      const ephemeral = await bus.subscribeEphemeral(
        ["chat.sent"],
        (e) => void seen.push(`ephemeral ${(e.payload as { n: number }).n}`),
      );
      const grouped: number[] = [];
      await bus.consume(
        "workers",
        ["other.*"],
        async (e) => void grouped.push((e.payload as { n: number }).n),
      );
      await bus.publish(testEvent("chat.sent", { n: 1 }));
      await bus.broadcast(testEvent("chat.sent", { n: 2 }));
      await waitUntil(() => seen.length === 3);
      expect(seen.sort()).toEqual(["ephemeral 2", "fanout 1", "follow 1"]);

      // The group's patterns change on its next consume: it now takes "chat.sent" too.
      await bus.consume(
        "workers",
        ["chat.*"],
        async (e) => void grouped.push((e.payload as { n: number }).n),
      );
      await fanout.close();
      await follow.close();
      await ephemeral.close();
      seen.length = 0;
      await bus.publish(testEvent("chat.sent", { n: 3 }));
      await bus.broadcast(testEvent("chat.sent", { n: 4 }));
      await waitUntil(() => grouped.length === 1);
      await sleep(20);
      expect(grouped).toEqual([3]);
      expect(seen).toEqual([]);
    } finally {
      await bus.close();
    }
  });
});
