export { usersMigrations } from "./migrations/index.ts";
export { usersModule } from "./module.ts";
export { USERS_SCHEMA } from "./users.schema-name.ts";
export type { UserUpdatedEvent, UserView } from "./users.service.ts";
