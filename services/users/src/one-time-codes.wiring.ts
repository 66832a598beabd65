import type { BeepConfig } from "@beep/config";
import { createMailer, type Mailer } from "@beep/mail";
import type { Logger } from "@beep/observability";
import type { RpcRuntime } from "@beep/rpc";
import { createSmsSender } from "@beep/sms";
import type { Kysely } from "kysely";
import { AccountRepository, type AccountRow } from "./account.repository.ts";
import type { CallerAuthenticator } from "./caller-authenticator.ts";
import { CodeBook } from "./code-book.ts";
import { ContactSettingsServiceDesc, contactSettingsRoutes } from "./contact-settings.routes.ts";
import { ContactSettingsService } from "./contact-settings.service.ts";
import { type GuessLimits, limitGuesses } from "./guess-limits.ts";
import { oneTimeCodeGuessRules, verificationGuessRules } from "./guess-rules.ts";
import { OneTimeCodeRepository } from "./one-time-code.repository.ts";
import { OneTimeCodeServiceDesc, oneTimeCodeRoutes } from "./one-time-codes.routes.ts";
import type { SessionIssuer } from "./session-issuer.ts";
import { SignInCodeService } from "./sign-in-code.service.ts";
import type { UsersTables } from "./users.tables.ts";
import { VerificationServiceDesc, verificationRoutes } from "./verification.routes.ts";
import { EmailVerificationService } from "./verification.service.ts";

/** What the one-time-code features need from the users module. */
export interface OneTimeCodesWiring {
  config: BeepConfig;
  db: Kysely<UsersTables>;
  sessionIssuer: SessionIssuer;
  callers: CallerAuthenticator;
  registry: RpcRuntime["registry"];
  logger: Logger;
  /** Rate limits of code requests and attempts (AUTH-11). */
  guesses: GuessLimits;
}

/**
 * Builds mail, SMS, e-mail verification, passwordless codes and contact
 * settings, and mounts their three RPC services. Returns the sign-up hook
 * that mails the first verification code.
 */
export function mountOneTimeCodes(w: OneTimeCodesWiring): {
  afterSignUp: (account: AccountRow) => void;
  /** The shared mailer and code book, for other features that mail codes. */
  mailer: Mailer;
  codes: CodeBook;
  publicUrl: string;
} {
  const { config, db, logger } = w;
  const mailer = createMailer({ ...config.mail, env: config.env, logger });
  // Why mail.logBodies: one switch shows codes sent by log:// drivers, mail and SMS alike, in development only.
  const sms = createSmsSender({ ...config.sms, logText: config.mail.logBodies, env: config.env, logger });
  const accounts = new AccountRepository(db);
  const repo = new OneTimeCodeRepository(db);
  const codes = new CodeBook(repo, config.codes);
  const publicUrl = config.http.publicUrl || `http://${config.http.host}:${config.http.port}`;
  const verification = new EmailVerificationService({ accounts, repo, codes, mailer, publicUrl, logger });
  const signInCodes = new SignInCodeService({
    accounts,
    repo,
    codes,
    mailer,
    sms,
    sessionIssuer: w.sessionIssuer,
    logger,
  });
  w.registry.service(
    VerificationServiceDesc,
    limitGuesses(verificationRoutes(verification, w.callers), w.guesses, verificationGuessRules),
  );
  w.registry.service(
    OneTimeCodeServiceDesc,
    limitGuesses(oneTimeCodeRoutes(signInCodes), w.guesses, oneTimeCodeGuessRules),
  );
  w.registry.service(
    ContactSettingsServiceDesc,
    contactSettingsRoutes(new ContactSettingsService(accounts, repo), w.callers),
  );
  return { afterSignUp: (account) => verification.sendInBackground(account), mailer, codes, publicUrl };
}
