export { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
export { messagesMigrations } from "./migrations/index.ts";
export { messagesModule } from "./module.ts";
