import { outboxMigration } from "@beep/bus";
import type { Migration } from "kysely";
import { SERVERS_SCHEMA } from "../servers.schema-name.ts";
import * as servers from "./0001_servers.ts";
import * as moderation from "./0003_moderation.ts";
import * as discovery from "./0004_discovery.ts";
import * as memberDirectory from "./0005_member_directory.ts";
import * as channelSync from "./0006_channel_sync.ts";
import * as inAppInvites from "./0007_in_app_invites.ts";
import * as serverPictures from "./0008_server_pictures.ts";

/** The servers schema's migrations, forward-only, applied in name order. */
export const serversMigrations: Record<string, Migration> = {
  "0001_servers": servers,
  "0002_outbox": outboxMigration(SERVERS_SCHEMA),
  "0003_moderation": moderation,
  "0004_discovery": discovery,
  "0005_member_directory": memberDirectory,
  "0006_channel_sync": channelSync,
  "0007_in_app_invites": inAppInvites,
  "0008_server_pictures": serverPictures,
};
