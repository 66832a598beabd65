import { inboxMigration, outboxMigration } from "@beep/bus";
import type { Migration } from "kysely";
import { MESSAGES_SCHEMA } from "../messages.schema-name.ts";
import * as messages from "./0001_messages.ts";
import * as reactions from "./0005_reactions.ts";
import * as readStates from "./0006_read_states.ts";
import * as threads from "./0007_threads.ts";

/** The messages schema's migrations, forward-only, applied in name order. */
export const messagesMigrations: Record<string, Migration> = {
  "0001_messages": messages,
  "0002_outbox": outboxMigration(MESSAGES_SCHEMA),
  "0003_inbox": inboxMigration(MESSAGES_SCHEMA),
  "0005_reactions": reactions,
  "0006_read_states": readStates,
  "0007_threads": threads,
};
