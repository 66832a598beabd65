import { afterAll, beforeAll, describe } from "vitest";
import { startAllInOne, type Topology } from "./harness/topology.ts";
import { defineAccountScenarios } from "./scenarios/account.scenarios.ts";
import { defineIdentityScenarios } from "./scenarios/identity.scenarios.ts";

describe("topology: beep --target=all on embedded defaults", () => {
  let topology: Topology;
  beforeAll(async () => {
    topology = await startAllInOne();
  }, 180_000);
  afterAll(async () => {
    await topology?.stop();
  });
  defineIdentityScenarios(() => topology);
  defineAccountScenarios(() => topology);
});
