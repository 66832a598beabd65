export { usersMigrations } from "./migrations/index.ts";
export { usersModule } from "./module.ts";
export { SigningKeyRepository } from "./signing-key.repository.ts";
export { forceSigningKeyRotation } from "./signing-key-rotation.ts";
export type { SessionTokensView, UserView } from "./user-view.ts";
export { USERS_SCHEMA } from "./users.schema-name.ts";
export type { UserUpdatedEvent } from "./users.service.ts";
