import { inboxMigration, outboxMigration } from "@beep/bus";
import type { Migration } from "kysely";
import { MESSAGES_SCHEMA } from "../messages.schema-name.ts";
import * as messages from "./0001_messages.ts";
import * as attachments from "./0004_attachments.ts";
import * as messageSearch from "./0005_message_search.ts";
import * as linkPreviews from "./0006_link_previews.ts";
import * as reactions from "./0007_reactions.ts";
import * as readStates from "./0008_read_states.ts";
import * as threads from "./0009_threads.ts";
import * as lockChannelsLatest from "./0010_lock_channels_latest.ts";
import * as sendBatch from "./0011_send_batch.ts";

/** The messages schema's migrations, forward-only, applied in name order. */
export const messagesMigrations: Record<string, Migration> = {
  "0001_messages": messages,
  "0002_outbox": outboxMigration(MESSAGES_SCHEMA),
  "0003_inbox": inboxMigration(MESSAGES_SCHEMA),
  "0004_attachments": attachments,
  "0005_message_search": messageSearch,
  "0006_link_previews": linkPreviews,
  "0007_reactions": reactions,
  "0008_read_states": readStates,
  "0009_threads": threads,
  "0010_lock_channels_latest": lockChannelsLatest,
  "0011_send_batch": sendBatch,
};
