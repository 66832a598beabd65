import type { Topology } from "../harness/topology.ts";
import { defineAccountScenarios } from "./account.scenarios.ts";
import { defineAttachmentsScenarios } from "./attachments.scenarios.ts";
import { defineAuthorizationMatrixScenarios } from "./authorization-matrix.scenarios.ts";
import { defineChannelSyncScenarios } from "./channel-sync.scenarios.ts";
import { defineDiscoveryScenarios } from "./discovery.scenarios.ts";
import { defineHardeningScenarios } from "./hardening.scenarios.ts";
import { defineIdentityScenarios } from "./identity.scenarios.ts";
import { defineInAppInvitesScenarios } from "./in-app-invites.scenarios.ts";
import { defineLdapScenarios } from "./ldap.scenarios.ts";
import { defineLinkPreviewScenarios } from "./link-previews.scenarios.ts";
import { defineMemberListScenarios } from "./member-list.scenarios.ts";
import { defineMessageExtrasScenarios } from "./message-extras.scenarios.ts";
import { defineMessageSearchScenarios } from "./message-search.scenarios.ts";
import { defineMessageStreamScenarios } from "./message-stream.scenarios.ts";
import { defineMessagesScenarios } from "./messages.scenarios.ts";
import { defineModerationScenarios } from "./moderation.scenarios.ts";
import { defineOneTimeCodeScenarios } from "./one-time-codes.scenarios.ts";
import { definePermissionsScenarios } from "./permissions.scenarios.ts";
import { defineRecoveryScenarios } from "./recovery.scenarios.ts";
import { defineServerDeletionScenarios } from "./server-deletion.scenarios.ts";
import { defineServerLimitsScenarios } from "./server-limits.scenarios.ts";
import { defineServerPicturesScenarios } from "./server-pictures.scenarios.ts";
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
  defineMessageStreamScenarios(topology);
  defineAttachmentsScenarios(topology);
  defineMessageSearchScenarios(topology);
  defineLinkPreviewScenarios(topology);
  defineMessageExtrasScenarios(topology);
  defineAuthorizationMatrixScenarios(topology);
  defineDiscoveryScenarios(topology);
  defineMemberListScenarios(topology);
  defineChannelSyncScenarios(topology);
  defineServerLimitsScenarios(topology);
  defineInAppInvitesScenarios(topology);
  defineServerPicturesScenarios(topology);
  defineServerDeletionScenarios(topology);
}
