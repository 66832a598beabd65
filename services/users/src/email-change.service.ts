import type { AccessClaims } from "@beep/auth";
import { writeOutbox } from "@beep/bus";
import { BeepError } from "@beep/errors";
import { isLanguage, type Language, type Mailer, renderMail } from "@beep/mail";
import { audit, errorFields, type Logger } from "@beep/observability";
import type { Kysely } from "kysely";
import type { AccountRepository, AccountRow } from "./account.repository.ts";
import type { CodeBook } from "./code-book.ts";
import { requireCurrentPassword } from "./current-password.ts";
import type { PasswordHasher } from "./password-hasher.ts";
import type { ProfileRepository } from "./profile.repository.ts";
import { type ProfileUpdatedEvent, toExtrasView } from "./profile-extras-view.ts";
import type { RecoveryRepository } from "./recovery.repository.ts";
import { renameInputField, requireEmail } from "./user-input.ts";
import { toUserView, type UserView } from "./user-view.ts";
import { USERS_SCHEMA } from "./users.schema-name.ts";
import type { UsersTables } from "./users.tables.ts";
import { greetingName } from "./verification.service.ts";

/** What EmailChangeService needs. */
export interface EmailChangeDeps {
  db: Kysely<UsersTables>;
  accounts: AccountRepository;
  profiles: ProfileRepository;
  recovery: RecoveryRepository;
  codes: CodeBook;
  hasher: PasswordHasher;
  mailer: Mailer;
  logger: Logger;
}

/** The caller of an email-change RPC: verified token claims. */
export type Caller = Pick<AccessClaims, "userId" | "sessionId">;

const INVALID_CODE = "Invalid or expired code";
const TAKEN = "email is already in use";

/**
 * Email change (AUTH-8): the current password re-authenticates the request; a
 * code mailed to the new address proves it; the old address gets a notice.
 * The email switches only when the code comes back, verified, still unique.
 */
export class EmailChangeService {
  constructor(private readonly deps: EmailChangeDeps) {}

  /** Checks the password and the address, then mails the code (new address) and the notice (old one). */
  async request(
    caller: Caller,
    input: { newEmail: string; currentPassword: string },
  ): Promise<{ accepted: true }> {
    const account = await this.requireAccount(caller);
    await requireCurrentPassword(this.deps, account, input.currentPassword, "change_email");
    const newEmail = renameInputField("newEmail", () => requireEmail(input.newEmail));
    if (newEmail.toLowerCase() === account.email_normalized) {
      throw new BeepError("BAD_USER_INPUT", "newEmail is already your email", { field: "newEmail" });
    }
    if (await this.deps.recovery.emailTaken(newEmail, caller.userId)) {
      this.auditFailure(caller.userId, "taken");
      throw new BeepError("CONFLICT", TAKEN, { field: "email" });
    }
    const issued = await this.deps.codes.issue(caller.userId, "change_email", newEmail);
    if (!issued) {
      throw new BeepError("RATE_LIMITED", "Too many email change codes; try again later", {
        retryAfterMs: 3_600_000,
      });
    }
    audit(this.deps.logger, {
      action: "EMAIL_CHANGE_REQUESTED",
      actor: caller.userId,
      target: caller.userId,
      outcome: "success",
    });
    const language: Language = isLanguage(account.language) ? account.language : "en";
    const name = greetingName(account);
    const code = renderMail("emailChangeCode", language, {
      name,
      code: issued.code,
      minutes: this.deps.codes.ttlMinutes,
    });
    const notice = renderMail("emailChangeNotice", language, { name });
    // In the background: the answer does not wait for SMTP; failures are logged and the user can ask again.
    Promise.all([
      this.deps.mailer.send({ to: newEmail, ...code }),
      this.deps.mailer.send({ to: account.email, ...notice }),
    ]).catch((error) =>
      this.deps.logger.error(
        { err: errorFields(error), accountId: caller.userId },
        "email change mail not sent",
      ),
    );
    return { accepted: true };
  }

  /** Switches to the address the code was mailed to; emits `user.updated`. */
  async confirm(caller: Caller, input: { code: string }): Promise<{ user: UserView }> {
    await this.requireAccount(caller);
    let conflict = false;
    let view: UserView | undefined;
    let previous = "";
    const result = await this.deps.codes.redeem(
      caller.userId,
      "change_email",
      input.code.trim(),
      async (trx, destination) => {
        previous = (await this.deps.accounts.findById(caller.userId, trx))?.email ?? "";
        const switched = await this.deps.recovery.switchEmail(trx, caller.userId, destination);
        if (switched.conflict || !switched.row) {
          conflict = true;
          return;
        }
        // Reset codes went to the old address: they must not outlive it.
        await this.deps.recovery.endCodes(trx, caller.userId, "reset_password");
        view = toUserView(switched.row);
        const event: ProfileUpdatedEvent = {
          user: view,
          profile: toExtrasView(caller.userId, await this.deps.profiles.find(caller.userId, trx), new Date()),
        };
        await writeOutbox(trx, USERS_SCHEMA, [{ type: "user.updated", payload: event }]);
      },
    );
    if (!result.ok) {
      this.auditFailure(caller.userId, "invalid_code");
      throw new BeepError("BAD_USER_INPUT", INVALID_CODE, { field: "code" });
    }
    if (conflict || !view) {
      // The code is used up: the address it proved belongs to someone else now.
      this.auditFailure(caller.userId, "taken");
      throw new BeepError("CONFLICT", TAKEN, { field: "email" });
    }
    audit(this.deps.logger, {
      action: "EMAIL_CHANGED",
      actor: caller.userId,
      target: caller.userId,
      outcome: "success",
      details: { from: previous, to: view.email },
    });
    return { user: view };
  }

  private auditFailure(userId: string, reason: string): void {
    audit(this.deps.logger, {
      action: "EMAIL_CHANGED",
      actor: userId,
      target: userId,
      outcome: "failure",
      details: { reason },
    });
  }

  private async requireAccount(caller: Caller): Promise<AccountRow> {
    const account = await this.deps.accounts.findById(caller.userId);
    if (!account) throw new BeepError("UNAUTHENTICATED", "Account no longer exists");
    return account;
  }
}
