import { accountSchema } from "./account.schema.ts";
import { baseSchema } from "./base.schema.ts";
import { channelSyncSchema } from "./channel-sync.schema.ts";
import { discoverySchema } from "./discovery.schema.ts";
import { eventsSchema } from "./events.schema.ts";
import { identitySchema } from "./identity.schema.ts";
import { inAppInvitesSchema } from "./in-app-invites.schema.ts";
import { ldapSchema } from "./ldap.schema.ts";
import { memberListSchema } from "./member-list.schema.ts";
import { messageBodyEventsSchema, messageEventsSchema, threadEventsSchema } from "./message-events.schema.ts";
import { messageSearchSchema } from "./message-search.schema.ts";
import { messagesSchema } from "./messages.schema.ts";
import { moderationSchema } from "./moderation.schema.ts";
import { oneTimeCodesSchema } from "./one-time-codes.schema.ts";
import { pagingSchema } from "./paging.schema.ts";
import { permissionsSchema } from "./permissions.schema.ts";
import { reactionsSchema } from "./reactions.schema.ts";
import { readStatesSchema } from "./read-states.schema.ts";
import { recoverySchema } from "./recovery.schema.ts";
import type { SchemaModule } from "./schema-module.ts";
import { serverEventsSchema } from "./server-events.schema.ts";
import { serverPicturesSchema } from "./server-pictures.schema.ts";
import { serversSchema } from "./servers.schema.ts";
import { sessionsSchema } from "./sessions.schema.ts";
import { ssoSchema } from "./sso.schema.ts";
import { threadsSchema } from "./threads.schema.ts";
import { twoFactorSchema } from "./two-factor.schema.ts";

/** Every slice of the public schema; a feature adds one file and one line here. */
export const schemaModules: readonly SchemaModule[] = [
  baseSchema,
  identitySchema,
  accountSchema,
  ldapSchema,
  oneTimeCodesSchema,
  sessionsSchema,
  ssoSchema,
  twoFactorSchema,
  recoverySchema,
  serversSchema,
  moderationSchema,
  permissionsSchema,
  eventsSchema,
  messagesSchema,
  serverEventsSchema,
  messageEventsSchema,
  messageBodyEventsSchema,
  pagingSchema,
  discoverySchema,
  memberListSchema,
  channelSyncSchema,
  inAppInvitesSchema,
  serverPicturesSchema,
  messageSearchSchema,
  reactionsSchema,
  readStatesSchema,
  threadsSchema,
  threadEventsSchema,
];
