import { createAccessTokenVerifier } from "@beep/auth";
import type { BlobStore } from "@beep/blob";
import { type Bus, OutboxRelay } from "@beep/bus";
import type { BeepConfig } from "@beep/config";
import { type DatabaseHandle, migrateSchema, serviceDatabase } from "@beep/db";
import { defineModule } from "@beep/kernel";
import { openRateLimitStore } from "@beep/limits";
import type { ObservabilityRuntime } from "@beep/observability";
import type { RpcRuntime } from "@beep/rpc";
import { AccountRepository } from "./account.repository.ts";
import { AccountServiceDesc, accountRoutes } from "./account.routes.ts";
import { AccountService } from "./account.service.ts";
import { CallerAuthenticator } from "./caller-authenticator.ts";
import { GuessLimits, limitGuesses } from "./guess-limits.ts";
import { accountGuessRules, ldapGuessRules, ssoGuessRules, twoFactorGuessRules } from "./guess-rules.ts";
import { LdapRepository } from "./ldap.repository.ts";
import { LdapServiceDesc, ldapRoutes } from "./ldap.routes.ts";
import { LdapService } from "./ldap.service.ts";
import { LdapDirectory } from "./ldap-directory.ts";
import { usersMigrations } from "./migrations/index.ts";
import { mountOneTimeCodes } from "./one-time-codes.wiring.ts";
import { PasswordHasher } from "./password-hasher.ts";
import { ProfileRepository } from "./profile.repository.ts";
import { mountRecovery } from "./recovery.wiring.ts";
import { SessionRepository } from "./session.repository.ts";
import { SessionIssuer } from "./session-issuer.ts";
import { SessionLiveness } from "./session-liveness.ts";
import { SessionsRepository } from "./sessions.repository.ts";
import { SessionsServiceDesc, sessionsRoutes } from "./sessions.routes.ts";
import { SessionsService } from "./sessions.service.ts";
import { SignInThrottle } from "./sign-in-throttle.ts";
import { SigningKeyRepository } from "./signing-key.repository.ts";
import { SigningKeyRotation } from "./signing-key-rotation.ts";
import { createSsoService, SsoServiceDesc, ssoRoutes } from "./sso.module.ts";
import { TokenIssuer } from "./token-issuer.ts";
import { TwoFactorRepository } from "./two-factor.repository.ts";
import { TwoFactorServiceDesc, twoFactorRoutes } from "./two-factor.routes.ts";
import { TwoFactorService } from "./two-factor.service.ts";
import { UserDirectoryServiceDesc, userDirectoryRoutes } from "./user-directory.routes.ts";
import { UsersServiceDesc, usersRoutes } from "./users.routes.ts";
import { USERS_SCHEMA } from "./users.schema-name.ts";
import { UsersService } from "./users.service.ts";
import type { UsersTables } from "./users.tables.ts";

/** The `users` target: identities, sessions, tokens and profiles. */
export const usersModule = defineModule({
  name: "users",
  deps: ["config", "observability", "db", "bus", "rpc", "blob"],
  target: true,
  async init(k) {
    const config = k.get<BeepConfig>("config");
    const { logger: loggerFor, metrics } = k.get<ObservabilityRuntime>("observability");
    const logger = loggerFor("users");
    const database = k.get<DatabaseHandle>("db");
    const bus = k.get<Bus>("bus");

    await migrateSchema(database.db, USERS_SCHEMA, usersMigrations, logger);
    const db = serviceDatabase<UsersTables>(database.db, USERS_SCHEMA);
    const tokens = new TokenIssuer(new SigningKeyRepository(db), config.auth);
    await tokens.load();
    const keyRotation = new SigningKeyRotation(new SigningKeyRepository(db), tokens, config.auth, logger);
    await keyRotation.tick();
    const sessions = new SessionRepository(db);
    const limitStore = await openRateLimitStore(config.cache.url, { keyPrefix: "beep:rl:" });
    const liveSessions = new SessionsRepository(db);
    const liveness = new SessionLiveness(liveSessions);
    const callers = new CallerAuthenticator(
      // Why: users verifies tokens with its own keys in memory; no RPC to itself.
      // maxAgeMs 0: the keys are in memory, so rotations and retirements apply at once.
      createAccessTokenVerifier({ ...config.auth, fetchJwks: async () => tokens.publicJwks(), maxAgeMs: 0 }),
      liveness,
    );
    const sessionIssuer = new SessionIssuer(sessions, tokens, config.auth.refreshTokenTtlDays);
    const { registry } = k.get<RpcRuntime>("rpc");
    const guesses = new GuessLimits(limitStore, config.auth, logger);
    const oneTimeCodes = mountOneTimeCodes({ config, db, sessionIssuer, callers, registry, logger, guesses });
    const accounts = new AccountRepository(db);
    // Why one hasher: the concurrency cap on argon2 must hold across every use case that hashes.
    const hasher = new PasswordHasher({
      memoryKib: config.auth.argon2MemoryKib,
      iterations: config.auth.argon2Iterations,
      maxConcurrent: config.auth.maxConcurrentHashes,
    });
    const twoFactor = new TwoFactorService({
      db,
      repo: new TwoFactorRepository(db),
      accounts,
      sessionIssuer,
      logger,
      settings: config.auth.totp,
    });
    const service = new UsersService({
      db,
      accounts,
      sessions,
      hasher,
      tokens,
      sessionIssuer,
      // Why cache.url: redis shares the counters between users replicas; memory:// suits one process.
      signInThrottle: new SignInThrottle(limitStore, config.auth),
      logger,
      afterSignUp: oneTimeCodes.afterSignUp,
      secondFactor: twoFactor,
    });
    registry.service(UsersServiceDesc, usersRoutes(service, callers));
    registry.service(UserDirectoryServiceDesc, userDirectoryRoutes(db, callers));
    const ldap = config.auth.ldap;
    registry.service(
      LdapServiceDesc,
      limitGuesses(
        ldapRoutes(
          new LdapService({
            db,
            directory: ldap.url === "" ? undefined : new LdapDirectory(ldap),
            links: new LdapRepository(),
            accounts,
            sessionIssuer,
            logger,
          }),
        ),
        guesses,
        ldapGuessRules,
      ),
    );
    registry.service(
      TwoFactorServiceDesc,
      limitGuesses(twoFactorRoutes(twoFactor, callers), guesses, twoFactorGuessRules),
    );
    registry.service(
      SsoServiceDesc,
      limitGuesses(ssoRoutes(createSsoService({ config, db, tokens, logger })), guesses, ssoGuessRules),
    );
    const sessionsService = new SessionsService({
      db,
      sessions: liveSessions,
      liveness,
      logger,
    });
    registry.service(SessionsServiceDesc, sessionsRoutes(sessionsService, callers));
    const account = new AccountService({
      db,
      accounts,
      profiles: new ProfileRepository(db),
      sessions: liveSessions,
      liveness,
      hasher,
      blobs: k.get<BlobStore>("blob"),
      logger,
      maxPictureBytes: config.users.maxPictureBytes,
    });
    registry.service(
      AccountServiceDesc,
      limitGuesses(accountRoutes(account, callers), guesses, accountGuessRules(callers)),
    );
    mountRecovery({
      ...oneTimeCodes,
      db,
      hasher,
      liveness,
      twoFactor,
      totp: config.auth.totp,
      callers,
      guesses,
      registry,
      logger,
    });

    const relay = new OutboxRelay({
      db: database.db,
      schema: USERS_SCHEMA,
      bus,
      logger,
      // Why: NOTIFY wakes the relay at commit; without it events wait for the next poll.
      listen: database.dedicatedConnection(),
    });
    metrics.registerGauge(
      "outbox_lag_seconds",
      "Age of the oldest unpublished event",
      ["schema"],
      async () => [{ labels: { schema: USERS_SCHEMA }, value: await relay.lagSeconds() }],
    );
    return {
      value: service,
      start: async () => {
        await relay.start();
        keyRotation.start();
      },
      stop: async () => {
        await keyRotation.stop();
        await relay.stop();
        await limitStore.close();
      },
    };
  },
});
