import type { Mailer } from "@beep/mail";
import type { Logger } from "@beep/observability";
import type { RpcRuntime } from "@beep/rpc";
import type { Kysely } from "kysely";
import { AccountRepository } from "./account.repository.ts";
import type { CallerAuthenticator } from "./caller-authenticator.ts";
import type { CodeBook } from "./code-book.ts";
import { EmailChangeService } from "./email-change.service.ts";
import { type GuessLimits, limitGuesses } from "./guess-limits.ts";
import { emailChangeGuessRules, passwordResetGuessRules } from "./guess-rules.ts";
import type { PasswordHasher } from "./password-hasher.ts";
import { PasswordResetService } from "./password-reset.service.ts";
import { ProfileRepository } from "./profile.repository.ts";
import { RecoveryRepository } from "./recovery.repository.ts";
import {
  EmailChangeServiceDesc,
  emailChangeRoutes,
  PasswordResetServiceDesc,
  passwordResetRoutes,
} from "./recovery.routes.ts";
import type { SessionLiveness } from "./session-liveness.ts";
import { SessionsRepository } from "./sessions.repository.ts";
import { TwoFactorRepository } from "./two-factor.repository.ts";
import type { TwoFactorService, TwoFactorSettings } from "./two-factor.service.ts";
import type { UsersTables } from "./users.tables.ts";

/** What forgot password and email change need from the users module (all shared instances). */
export interface RecoveryWiring {
  db: Kysely<UsersTables>;
  codes: CodeBook;
  mailer: Mailer;
  publicUrl: string;
  hasher: PasswordHasher;
  liveness: SessionLiveness;
  twoFactor: TwoFactorService;
  totp: TwoFactorSettings;
  callers: CallerAuthenticator;
  /** Limits on guessing reset and email-change codes (AUTH-11). */
  guesses: GuessLimits;
  registry: RpcRuntime["registry"];
  logger: Logger;
}

/** Builds and mounts PasswordResetService and EmailChangeService (AUTH-12, AUTH-8). */
export function mountRecovery(w: RecoveryWiring): {
  passwordReset: PasswordResetService;
  emailChange: EmailChangeService;
} {
  const { db, logger } = w;
  const accounts = new AccountRepository(db);
  const profiles = new ProfileRepository(db);
  const recovery = new RecoveryRepository(db);
  const passwordReset = new PasswordResetService({
    db,
    accounts,
    profiles,
    recovery,
    sessions: new SessionsRepository(db),
    liveness: w.liveness,
    codes: w.codes,
    hasher: w.hasher,
    mailer: w.mailer,
    twoFactor: w.twoFactor,
    twoFactorRepo: new TwoFactorRepository(db),
    challenge: w.totp,
    publicUrl: w.publicUrl,
    logger,
  });
  const emailChange = new EmailChangeService({
    db,
    accounts,
    profiles,
    recovery,
    codes: w.codes,
    hasher: w.hasher,
    mailer: w.mailer,
    logger,
  });
  w.registry.service(
    PasswordResetServiceDesc,
    limitGuesses(passwordResetRoutes(passwordReset), w.guesses, passwordResetGuessRules),
  );
  w.registry.service(
    EmailChangeServiceDesc,
    limitGuesses(emailChangeRoutes(emailChange, w.callers), w.guesses, emailChangeGuessRules(w.callers)),
  );
  return { passwordReset, emailChange };
}
