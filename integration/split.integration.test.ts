import { afterAll, beforeAll, describe } from "vitest";
import { startSplit, type Topology } from "./harness/topology.ts";
import { defineAccountScenarios } from "./scenarios/account.scenarios.ts";
import { defineCrashScenarios } from "./scenarios/crash.scenarios.ts";
import { defineIdentityScenarios } from "./scenarios/identity.scenarios.ts";

describe("topology: users and gateway as processes over gRPC + NATS + PostgreSQL", () => {
  let topology: Topology;
  beforeAll(async () => {
    topology = await startSplit();
  }, 180_000);
  afterAll(async () => {
    await topology?.stop();
  });
  defineIdentityScenarios(() => topology);
  defineAccountScenarios(() => topology);
  defineCrashScenarios(() => topology);
});
