import { type BeepConfig, parseOidcProviders } from "@beep/config";
import type { Logger } from "@beep/observability";
import type { Kysely } from "kysely";
import { AccountRepository } from "./account.repository.ts";
import { PasswordHasher } from "./password-hasher.ts";
import { SessionRepository } from "./session.repository.ts";
import { SessionIssuer } from "./session-issuer.ts";
import { SsoRepository } from "./sso.repository.ts";
import { SsoService } from "./sso.service.ts";
import type { TokenIssuer } from "./token-issuer.ts";
import type { UsersTables } from "./users.tables.ts";

export { SsoServiceDesc, ssoRoutes } from "./sso.routes.ts";

/** Wires SsoService from the users module's pieces (kept here so module.ts gains one line). */
export function createSsoService(parts: {
  config: BeepConfig;
  db: Kysely<UsersTables>;
  tokens: TokenIssuer;
  logger: Logger;
}): SsoService {
  const { config, db, tokens, logger } = parts;
  const sessions = new SessionRepository(db);
  return new SsoService({
    db,
    repository: new SsoRepository(db),
    accounts: new AccountRepository(db),
    // Linking proves a password: same argon2id parameters as sign-in.
    hasher: new PasswordHasher({
      memoryKib: config.auth.argon2MemoryKib,
      iterations: config.auth.argon2Iterations,
      maxConcurrent: config.auth.maxConcurrentHashes,
    }),
    sessionIssuer: new SessionIssuer(sessions, tokens, config.auth.refreshTokenTtlDays),
    providers: parseOidcProviders(config.auth.oidcProviders),
    publicUrl: config.http.publicUrl || `http://${config.http.host}:${config.http.port}`,
    logger,
  });
}
