import { BeepError } from "@beep/errors";
import { newId } from "@beep/ids";
import { isLanguage, type Language, type Mailer, renderMail } from "@beep/mail";
import { audit, errorFields, type Logger } from "@beep/observability";
import type { SmsSender } from "@beep/sms";
import type { AccountRepository, AccountRow } from "./account.repository.ts";
import type { CodeBook } from "./code-book.ts";
import { requirePhone } from "./contact-input.ts";
import type { OneTimeCodeRepository } from "./one-time-code.repository.ts";
import type { SessionIssuer } from "./session-issuer.ts";
import { requireEmail } from "./user-input.ts";
import type { SessionTokensView } from "./user-view.ts";
import { greetingName } from "./verification.service.ts";

/** What SignInCodeService needs. */
export interface SignInCodeDeps {
  accounts: AccountRepository;
  repo: OneTimeCodeRepository;
  codes: CodeBook;
  mailer: Mailer;
  sms: SmsSender;
  sessionIssuer: SessionIssuer;
  logger: Logger;
}

/** Where a sign-in code goes. */
export type CodeChannel = "email" | "sms";

const INVALID_CODE = "Invalid or expired code";

const SMS_TEXT: Record<Language, (code: string, minutes: number) => string> = {
  en: (code, minutes) => `${code} is your Beep sign-in code. It expires in ${minutes} minutes.`,
  fr: (code, minutes) => `${code} est votre code de connexion Beep. Il expire dans ${minutes} minutes.`,
};

/**
 * Passwordless sign-in (AUTH-7). Requests always get the same answer and the
 * code is sent in the background, so neither the answer nor its timing tells
 * whether an account exists.
 */
export class SignInCodeService {
  constructor(private readonly deps: SignInCodeDeps) {}

  /** Sends a code to the account's email or phone, if the account exists. */
  async request(input: {
    email: string;
    phone: string;
    channel: CodeChannel | undefined;
    ip?: string;
  }): Promise<{ accepted: true }> {
    const { account, by } = await this.find(input.email, input.phone);
    const channel: CodeChannel = input.channel ?? (by === "phone" ? "sms" : "email");
    if (account) {
      audit(this.deps.logger, {
        action: "SIGN_IN_CODE_REQUESTED",
        actor: String(account.id),
        outcome: "success",
        ip: input.ip,
        details: { channel },
      });
      this.send(account, channel).catch((error) =>
        this.deps.logger.error(
          { err: errorFields(error), accountId: String(account.id), channel },
          "sign-in code not sent",
        ),
      );
    }
    return { accepted: true };
  }

  /** Exchanges a live code for a session; one error for every failure. */
  async signIn(input: {
    email: string;
    phone: string;
    code: string;
    device: string;
    ip: string;
  }): Promise<SessionTokensView> {
    const { account } = await this.find(input.email, input.phone).catch(() => ({ account: undefined }));
    const result = account
      ? await this.deps.codes.redeem(
          String(account.id),
          "sign_in",
          input.code.trim(),
          async (trx, destination) => {
            // Why: a code that reached the mailbox proves the address as well as a verification code would.
            if (destination.includes("@"))
              await this.deps.repo.markEmailVerified(trx, String(account.id), destination);
          },
        )
      : // Timing: an unknown account runs the same lookup transaction as a known one without a live code.
        await this.deps.codes.redeem(newId(), "sign_in", input.code.trim());
    if (!account || !result.ok) {
      audit(this.deps.logger, {
        action: "SIGN_IN_FAILED",
        actor: account ? String(account.id) : undefined,
        outcome: "failure",
        ip: input.ip,
        details: { method: "one_time_code" },
      });
      throw new BeepError("UNAUTHENTICATED", INVALID_CODE);
    }
    audit(this.deps.logger, {
      action: "SIGN_IN",
      actor: String(account.id),
      outcome: "success",
      ip: input.ip,
      details: { method: "one_time_code" },
    });
    const fresh = (await this.deps.accounts.findById(String(account.id))) ?? account;
    return this.deps.sessionIssuer.issue(fresh, input);
  }

  private async find(
    email: string,
    phone: string,
  ): Promise<{ account: AccountRow | undefined; by: "email" | "phone" }> {
    if (email.trim())
      return { account: await this.deps.accounts.findByEmail(requireEmail(email)), by: "email" };
    if (phone.trim())
      return { account: await this.deps.repo.findAccountByPhone(requirePhone(phone)), by: "phone" };
    throw new BeepError("BAD_USER_INPUT", "email or phone is required", { field: "email" });
  }

  private async send(account: AccountRow, channel: CodeChannel): Promise<void> {
    const destination = channel === "sms" ? account.phone : account.email;
    // An account without a phone gets nothing by SMS; the answer was the same anyway.
    if (!destination) return;
    const issued = await this.deps.codes.issue(String(account.id), "sign_in", destination);
    if (!issued) {
      this.deps.logger.warn({ accountId: String(account.id) }, "sign-in code skipped: hourly cap reached");
      return;
    }
    const language: Language = isLanguage(account.language) ? account.language : "en";
    if (channel === "sms") {
      await this.deps.sms.send({
        to: destination,
        text: SMS_TEXT[language](issued.code, this.deps.codes.ttlMinutes),
      });
      return;
    }
    const mail = renderMail("signInCode", language, {
      name: greetingName(account),
      code: issued.code,
      minutes: this.deps.codes.ttlMinutes,
    });
    await this.deps.mailer.send({ to: destination, ...mail });
  }
}
