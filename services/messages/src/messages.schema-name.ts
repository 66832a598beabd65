/** The PostgreSQL schema that holds this service's tables, outbox and inbox. */
export const MESSAGES_SCHEMA = "messages";
