import { afterAll, beforeAll, describe } from "vitest";
import { startSplit, type Topology } from "./harness/topology.ts";
import { defineAccountScenarios } from "./scenarios/account.scenarios.ts";
import { defineCrashScenarios } from "./scenarios/crash.scenarios.ts";
import { defineHardeningScenarios } from "./scenarios/hardening.scenarios.ts";
import { defineIdentityScenarios } from "./scenarios/identity.scenarios.ts";
import { defineLdapScenarios } from "./scenarios/ldap.scenarios.ts";
import { defineModerationScenarios } from "./scenarios/moderation.scenarios.ts";
import { defineOneTimeCodeScenarios } from "./scenarios/one-time-codes.scenarios.ts";
import { definePermissionsScenarios } from "./scenarios/permissions.scenarios.ts";
import { defineRecoveryScenarios } from "./scenarios/recovery.scenarios.ts";
import { defineServersScenarios } from "./scenarios/servers.scenarios.ts";
import { defineSessionsScenarios } from "./scenarios/sessions.scenarios.ts";
import { defineSsoScenarios } from "./scenarios/sso.scenarios.ts";
import { defineTwoFactorScenarios } from "./scenarios/two-factor.scenarios.ts";

describe("topology: users, servers and gateway as processes over gRPC + NATS + PostgreSQL", () => {
  let topology: Topology;
  beforeAll(async () => {
    topology = await startSplit();
  }, 400_000);
  afterAll(async () => {
    await topology?.stop();
  });
  defineIdentityScenarios(() => topology);
  defineLdapScenarios(() => topology);
  defineOneTimeCodeScenarios(() => topology);
  defineTwoFactorScenarios(() => topology);
  defineSsoScenarios(() => topology);
  defineSessionsScenarios(() => topology);
  defineAccountScenarios(() => topology);
  defineHardeningScenarios(() => topology);
  defineRecoveryScenarios(() => topology);
  defineServersScenarios(() => topology);
  defineModerationScenarios(() => topology);
  definePermissionsScenarios(() => topology);
  defineCrashScenarios(() => topology);
});
