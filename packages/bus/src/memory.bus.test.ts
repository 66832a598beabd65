import { createLogger } from "@beep/observability";
import { describe, expect, it } from "vitest";
import { describeBusConformance } from "./bus.conformance.ts";
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
