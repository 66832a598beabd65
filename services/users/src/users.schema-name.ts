/** The PostgreSQL schema that holds this service's tables and outbox. */
export const USERS_SCHEMA = "users";
