import { afterAll, beforeAll, describe } from "vitest";
import { startAllInOne, type Topology } from "./harness/topology.ts";
import { defineAllTopologyScenarios } from "./scenarios/index.ts";

describe("topology: beep --target=all on embedded defaults", () => {
  let topology: Topology;
  beforeAll(async () => {
    topology = await startAllInOne();
  }, 400_000);
  afterAll(async () => {
    await topology?.stop();
  });
  defineAllTopologyScenarios(() => topology);
});
