import { BeepError } from "@beep/errors";
import { isLanguage, type Mailer, renderMail } from "@beep/mail";
import { audit, errorFields, type Logger } from "@beep/observability";
import type { Transaction } from "kysely";
import type { AccountRepository, AccountRow } from "./account.repository.ts";
import type { CodeBook } from "./code-book.ts";
import type { OneTimeCodeRepository } from "./one-time-code.repository.ts";
import type { UsersTables } from "./users.tables.ts";

/** What EmailVerificationService needs. */
export interface EmailVerificationDeps {
  accounts: AccountRepository;
  repo: OneTimeCodeRepository;
  codes: CodeBook;
  mailer: Mailer;
  /** Base URL the verification link points to (`<publicUrl>/verify-email?token=…`). */
  publicUrl: string;
  logger: Logger;
}

const INVALID_CODE = "Invalid or expired code";

/** The name a mail greets the account with. */
export function greetingName(account: AccountRow): string {
  return account.display_name || account.first_name;
}

/**
 * E-mail verification (AUTH-1): a code and a link mailed in the account's
 * language. Unverified accounts may still sign in (as Discord does); clients
 * read `emailVerification` and may limit what such accounts do.
 */
export class EmailVerificationService {
  constructor(private readonly deps: EmailVerificationDeps) {}

  /**
   * Mails a new verification code in the background: the caller's answer
   * neither waits for nor reveals the mail; failures are logged, and the user
   * can ask again.
   */
  sendInBackground(account: AccountRow): void {
    this.send(account).catch((error) =>
      this.deps.logger.error(
        { err: errorFields(error), accountId: String(account.id) },
        "verification mail not sent",
      ),
    );
  }

  /** Verifies with the mailed link token, or with email + code. */
  async verifyEmail(input: { email: string; code: string; token: string }): Promise<{ verified: true }> {
    const markVerified = (trx: Transaction<UsersTables>, accountId: string, destination: string) =>
      this.deps.repo.markEmailVerified(trx, accountId, destination);
    let accountId: string | undefined;
    let ok = false;
    if (input.token) {
      const result = await this.deps.codes.redeemLink(input.token, "verify_email", markVerified);
      if (result.ok) {
        ok = true;
        accountId = result.accountId;
      }
    } else {
      const account =
        input.email.length <= 254 ? await this.deps.accounts.findByEmail(input.email.trim()) : undefined;
      if (account) {
        const id = String(account.id);
        accountId = id;
        const result = await this.deps.codes.redeem(
          id,
          "verify_email",
          input.code.trim(),
          (trx, destination) => markVerified(trx, id, destination),
        );
        ok = result.ok;
      }
    }
    audit(this.deps.logger, {
      action: ok ? "EMAIL_VERIFIED" : "EMAIL_VERIFICATION_FAILED",
      actor: accountId,
      target: accountId,
      outcome: ok ? "success" : "failure",
    });
    if (!ok) throw new BeepError("BAD_USER_INPUT", INVALID_CODE, { field: "code" });
    return { verified: true };
  }

  /** Mails a new code to an existing, unverified account; the answer never says which case it was. */
  async resend(email: string): Promise<{ accepted: true }> {
    const account = email.length <= 254 ? await this.deps.accounts.findByEmail(email.trim()) : undefined;
    if (account && !account.email_verified_at) this.sendInBackground(account);
    return { accepted: true };
  }

  /** Whether the account's email is verified. */
  async status(accountId: string): Promise<{ verified: boolean; verifiedAt: string }> {
    const account = await this.deps.accounts.findById(accountId);
    if (!account) throw new BeepError("UNAUTHENTICATED", "Account no longer exists");
    const at = account.email_verified_at;
    return { verified: at !== null, verifiedAt: at ? new Date(at).toISOString() : "" };
  }

  private async send(account: AccountRow): Promise<void> {
    const issued = await this.deps.codes.issue(String(account.id), "verify_email", account.email, true);
    if (!issued) {
      this.deps.logger.warn(
        { accountId: String(account.id) },
        "verification mail skipped: hourly cap reached",
      );
      return;
    }
    const link = `${this.deps.publicUrl.replace(/\/$/, "")}/verify-email?token=${issued.linkToken}`;
    const mail = renderMail("verifyEmail", isLanguage(account.language) ? account.language : "en", {
      name: greetingName(account),
      code: issued.code,
      link,
      minutes: this.deps.codes.ttlMinutes,
    });
    await this.deps.mailer.send({ to: account.email, ...mail });
  }
}
