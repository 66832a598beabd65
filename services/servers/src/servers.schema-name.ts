/** The PostgreSQL schema that holds this service's tables and outbox. */
export const SERVERS_SCHEMA = "servers";
