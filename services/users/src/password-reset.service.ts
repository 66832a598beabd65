import { BeepError } from "@beep/errors";
import { isLanguage, type Mailer, renderMail } from "@beep/mail";
import { audit, errorFields, type Logger } from "@beep/observability";
import type { Kysely, Transaction } from "kysely";
import type { AccountRepository, AccountRow } from "./account.repository.ts";
import type { CodeBook } from "./code-book.ts";
import type { PasswordHasher } from "./password-hasher.ts";
import type { ProfileRepository } from "./profile.repository.ts";
import type { RecoveryRepository } from "./recovery.repository.ts";
import type { SessionLiveness } from "./session-liveness.ts";
import { revokeSessions } from "./session-revocation.ts";
import type { SessionsRepository } from "./sessions.repository.ts";
import { hashChallengeToken, newChallengeToken } from "./totp-codes.ts";
import type { TwoFactorRepository } from "./two-factor.repository.ts";
import type { TwoFactorService, TwoFactorSettings } from "./two-factor.service.ts";
import { renameInputField, requireEmail, requirePassword } from "./user-input.ts";
import type { UsersTables } from "./users.tables.ts";
import { greetingName } from "./verification.service.ts";

/** What PasswordResetService needs. */
export interface PasswordResetDeps {
  db: Kysely<UsersTables>;
  accounts: AccountRepository;
  profiles: ProfileRepository;
  recovery: RecoveryRepository;
  sessions: SessionsRepository;
  liveness: SessionLiveness;
  codes: CodeBook;
  hasher: PasswordHasher;
  mailer: Mailer;
  twoFactor: TwoFactorService;
  twoFactorRepo: TwoFactorRepository;
  /** Challenge lifetime and attempt limit, shared with sign-in challenges (`auth.totp.*`). */
  challenge: Pick<TwoFactorSettings, "challengeTtlSeconds" | "challengeMaxAttempts">;
  /** Base URL the reset link points to (`<publicUrl>/reset-password?token=…`). */
  publicUrl: string;
  logger: Logger;
}

/** Reason written on every session a reset ends. */
export const PASSWORD_RESET_REASON = "password_reset";

const INVALID_CODE = "Invalid or expired code";
const DEAD_CHALLENGE = "This reset has expired; ask for a new code";
const WRONG_SECOND_FACTOR = "Invalid or already used code";
const MAX_TOKEN_LENGTH = 128;

/**
 * Forgot password (AUTH-12). Requests always get the same answer and the mail
 * goes out in the background. A proven code (or link) sets the new password
 * and ends every session; with 2FA on, the code is used up and the reset waits
 * in a challenge until a TOTP or recovery code answers it. A reset never signs
 * anyone in.
 */
export class PasswordResetService {
  constructor(private readonly deps: PasswordResetDeps) {}

  /** Mails a reset code and link when an account has this email; the answer never tells. */
  async request(input: { email: string; ip?: string }): Promise<{ accepted: true }> {
    const email = requireEmail(input.email);
    const account = await this.deps.accounts.findByEmail(email);
    if (account) {
      audit(this.deps.logger, {
        action: "PASSWORD_RESET_REQUESTED",
        actor: String(account.id),
        target: String(account.id),
        outcome: "success",
        ip: input.ip,
      });
      this.send(account).catch((error) =>
        this.deps.logger.error(
          { err: errorFields(error), accountId: String(account.id) },
          "password reset mail not sent",
        ),
      );
    }
    return { accepted: true };
  }

  /**
   * Sets the new password with the mailed code (and email) or the link token.
   * The password is checked first, so a refused password does not burn the code.
   */
  async reset(input: {
    email: string;
    code: string;
    linkToken: string;
    newPassword: string;
    ip?: string;
  }): Promise<{ revokedSessions: number }> {
    const newPassword = renameInputField("newPassword", () => requirePassword(input.newPassword));
    // Hashed before the account is looked up: unknown accounts cost the same time.
    const passwordHash = await this.deps.hasher.hash(newPassword);
    let outcome: { kind: "reset"; revoked: string[] } | { kind: "challenge"; token: string } | undefined;
    const apply = async (trx: Transaction<UsersTables>, accountId: string) => {
      if (await this.twoFactorOn(trx, accountId)) {
        const token = newChallengeToken();
        await this.deps.recovery.createChallenge(trx, {
          tokenHash: hashChallengeToken(token),
          accountId,
          passwordHash,
          expiresAt: new Date(Date.now() + this.deps.challenge.challengeTtlSeconds * 1000),
        });
        outcome = { kind: "challenge", token };
        return;
      }
      outcome = { kind: "reset", revoked: await this.applyReset(trx, accountId, passwordHash) };
    };
    let accountId: string | undefined;
    let ok = false;
    if (input.linkToken) {
      if (input.linkToken.length <= MAX_TOKEN_LENGTH) {
        const result = await this.deps.codes.redeemLink(input.linkToken, "reset_password", (trx, id) =>
          apply(trx, id),
        );
        ok = result.ok;
        if (result.ok) accountId = result.accountId;
      }
    } else {
      const account =
        input.email.trim().length <= 254
          ? await this.deps.accounts.findByEmail(input.email.trim())
          : undefined;
      if (account) {
        accountId = String(account.id);
        const id = accountId;
        const result = await this.deps.codes.redeem(id, "reset_password", input.code.trim(), (trx) =>
          apply(trx, id),
        );
        ok = result.ok;
      }
    }
    if (!ok || !outcome || !accountId) {
      audit(this.deps.logger, {
        action: "PASSWORD_RESET",
        actor: accountId,
        target: accountId,
        outcome: "failure",
        ip: input.ip,
        details: { reason: "invalid_code", via: input.linkToken ? "link" : "code" },
      });
      throw new BeepError("BAD_USER_INPUT", INVALID_CODE, { field: "code" });
    }
    const done = outcome as { kind: "reset"; revoked: string[] } | { kind: "challenge"; token: string };
    if (done.kind === "challenge") {
      await this.deps.recovery.deleteExpiredChallenges(new Date(Date.now() - 86_400_000));
      audit(this.deps.logger, {
        action: "PASSWORD_RESET_SECOND_FACTOR_REQUIRED",
        actor: accountId,
        target: accountId,
        ip: input.ip,
      });
      throw new BeepError("TWO_FACTOR_REQUIRED", "Enter the code from your authenticator app", {
        challengeToken: done.token,
      });
    }
    return this.finished(accountId, done.revoked, input.ip, "none");
  }

  /** Finishes a reset that answered TWO_FACTOR_REQUIRED, with a TOTP or recovery code. */
  async complete(input: { challengeToken: string; code: string; ip?: string }): Promise<{
    revokedSessions: number;
  }> {
    if (input.challengeToken.length === 0 || input.challengeToken.length > MAX_TOKEN_LENGTH) {
      throw new BeepError("UNAUTHENTICATED", DEAD_CHALLENGE);
    }
    const tokenHash = hashChallengeToken(input.challengeToken);
    const max = this.deps.challenge.challengeMaxAttempts;
    const outcome = await this.deps.db.transaction().execute(async (trx) => {
      const challenge = await this.deps.recovery.findLiveChallengeForUpdate(trx, tokenHash, max);
      if (!challenge) return { result: "dead" as const };
      const accountId = String(challenge.account_id);
      const spent = await this.deps.twoFactor.proveSecondFactor(trx, accountId, input.code);
      // 2FA turned off since: the challenge means nothing now; a new reset does not need it.
      if (!spent) return { result: "dead" as const };
      if (!spent.ok) {
        await this.deps.recovery.recordFailedAttempt(trx, tokenHash);
        return {
          result: "wrong" as const,
          accountId,
          reason: spent.reason,
          attemptsLeft: max - challenge.failed_attempts - 1,
        };
      }
      const revoked = await this.applyReset(trx, accountId, challenge.password_hash);
      return { result: "ok" as const, accountId, revoked, kind: spent.kind };
    });
    if (outcome.result === "dead") throw new BeepError("UNAUTHENTICATED", DEAD_CHALLENGE);
    if (outcome.result === "wrong") {
      audit(this.deps.logger, {
        action: "PASSWORD_RESET",
        actor: outcome.accountId,
        target: outcome.accountId,
        outcome: "failure",
        ip: input.ip,
        details: { reason: `second_factor_${outcome.reason}`, attempts_left: outcome.attemptsLeft },
      });
      throw new BeepError(
        "UNAUTHENTICATED",
        outcome.attemptsLeft > 0 ? WRONG_SECOND_FACTOR : `${WRONG_SECOND_FACTOR}; ask for a new reset code`,
      );
    }
    if (outcome.kind === "recovery") {
      audit(this.deps.logger, {
        action: "RECOVERY_CODE_USED",
        actor: outcome.accountId,
        target: outcome.accountId,
        ip: input.ip,
      });
    }
    return this.finished(outcome.accountId, outcome.revoked, input.ip, outcome.kind);
  }

  // Rehash, end every session with its event, end pending resets: one transaction.
  private async applyReset(
    trx: Transaction<UsersTables>,
    accountId: string,
    passwordHash: string,
  ): Promise<string[]> {
    await this.deps.profiles.setPasswordHash(trx, accountId, passwordHash);
    await this.deps.recovery.endChallenges(trx, accountId);
    return revokeSessions(trx, this.deps.sessions, accountId, {}, PASSWORD_RESET_REASON);
  }

  private finished(
    accountId: string,
    revoked: string[],
    ip: string | undefined,
    secondFactor: string,
  ): { revokedSessions: number } {
    this.deps.liveness.forget(revoked);
    audit(this.deps.logger, {
      action: "PASSWORD_RESET",
      actor: accountId,
      target: accountId,
      outcome: "success",
      ip,
      details: { revokedSessions: revoked.length, second_factor: secondFactor },
    });
    return { revokedSessions: revoked.length };
  }

  private async twoFactorOn(trx: Transaction<UsersTables>, accountId: string): Promise<boolean> {
    const credential = await this.deps.twoFactorRepo.findCredential(accountId, trx);
    return Boolean(credential?.confirmed_at);
  }

  private async send(account: AccountRow): Promise<void> {
    const issued = await this.deps.codes.issue(String(account.id), "reset_password", account.email, true);
    if (!issued) {
      this.deps.logger.warn(
        { accountId: String(account.id) },
        "password reset mail skipped: hourly cap reached",
      );
      return;
    }
    const link = `${this.deps.publicUrl.replace(/\/$/, "")}/reset-password?token=${issued.linkToken}`;
    const mail = renderMail("passwordReset", isLanguage(account.language) ? account.language : "en", {
      name: greetingName(account),
      code: issued.code,
      link,
      minutes: this.deps.codes.ttlMinutes,
    });
    await this.deps.mailer.send({ to: account.email, ...mail });
  }
}
