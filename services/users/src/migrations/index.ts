import { outboxMigration } from "@beep/bus";
import type { Migration } from "kysely";
import { USERS_SCHEMA } from "../users.schema-name.ts";
import * as identity from "./0001_identity.ts";
import * as externalIdentities from "./0003_external_identities.ts";
import * as totp from "./0005_totp.ts";
import * as oneTimeCodes from "./0006_one_time_codes.ts";
import * as oidcFlows from "./0007_oidc_flows.ts";
import * as profileExtras from "./0009_profile_extras.ts";
import * as recoveryResetChallenges from "./0010_recovery_reset_challenges.ts";

/** The users schema's migrations, forward-only, applied in name order. */
export const usersMigrations: Record<string, Migration> = {
  "0001_identity": identity,
  "0002_outbox": outboxMigration(USERS_SCHEMA),
  "0003_external_identities": externalIdentities,
  "0005_totp": totp,
  "0006_one_time_codes": oneTimeCodes,
  "0007_oidc_flows": oidcFlows,
  "0009_profile_extras": profileExtras,
  "0010_recovery_reset_challenges": recoveryResetChallenges,
};
