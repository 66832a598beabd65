import { afterAll, beforeAll, describe } from "vitest";
import { startSplit, type Topology } from "./harness/topology.ts";
import { defineCrashScenarios } from "./scenarios/crash.scenarios.ts";
import { defineAllTopologyScenarios } from "./scenarios/index.ts";
import { defineMessageCrashScenarios } from "./scenarios/message-crash.scenarios.ts";

describe("topology: users, servers and gateway as processes over gRPC + NATS + PostgreSQL", () => {
  let topology: Topology;
  beforeAll(async () => {
    topology = await startSplit();
  }, 400_000);
  afterAll(async () => {
    await topology?.stop();
  });
  defineAllTopologyScenarios(() => topology);
  defineCrashScenarios(() => topology);
  defineMessageCrashScenarios(() => topology);
});
