import type { Topology } from "../harness/topology.ts";
import { defineAccountScenarios } from "./account.scenarios.ts";
import { defineAuthorizationMatrixScenarios } from "./authorization-matrix.scenarios.ts";
import { defineHardeningScenarios } from "./hardening.scenarios.ts";
import { defineIdentityScenarios } from "./identity.scenarios.ts";
import { defineLdapScenarios } from "./ldap.scenarios.ts";
import { defineMessageExtrasScenarios } from "./message-extras.scenarios.ts";
import { defineMessagesScenarios } from "./messages.scenarios.ts";
import { defineModerationScenarios } from "./moderation.scenarios.ts";
import { defineOneTimeCodeScenarios } from "./one-time-codes.scenarios.ts";
import { definePermissionsScenarios } from "./permissions.scenarios.ts";
import { defineRecoveryScenarios } from "./recovery.scenarios.ts";
import { defineServersScenarios } from "./servers.scenarios.ts";
import { defineSessionsScenarios } from "./sessions.scenarios.ts";
import { defineSsoScenarios } from "./sso.scenarios.ts";
import { defineStreamScenarios } from "./stream.scenarios.ts";
import { defineStreamAudienceScenarios } from "./stream-audience.scenarios.ts";
import { defineTwoFactorScenarios } from "./two-factor.scenarios.ts";

/**
 * Every scenario that must pass unchanged in every topology; a feature adds
 * its scenarios here once, and both topology suites run them.
 */
export function defineAllTopologyScenarios(topology: () => Topology): void {
  defineIdentityScenarios(topology);
  defineLdapScenarios(topology);
  defineOneTimeCodeScenarios(topology);
  defineTwoFactorScenarios(topology);
  defineSsoScenarios(topology);
  defineSessionsScenarios(topology);
  defineAccountScenarios(topology);
  defineHardeningScenarios(topology);
  defineRecoveryScenarios(topology);
  defineServersScenarios(topology);
  defineModerationScenarios(topology);
  definePermissionsScenarios(topology);
  defineStreamAudienceScenarios(topology);
  defineStreamScenarios(topology);
  defineMessagesScenarios(topology);
  defineMessageExtrasScenarios(topology);
  defineAuthorizationMatrixScenarios(topology);
}
