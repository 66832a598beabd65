import { BeepError } from "@beep/errors";
import { audit, type Logger } from "@beep/observability";
import type { Kysely, Transaction } from "kysely";
import type { AccountRepository, AccountRow } from "./account.repository.ts";
import type { SessionIssuer } from "./session-issuer.ts";
import {
  hashChallengeToken,
  hashRecoveryCode,
  isTotpCode,
  matchingTimeStep,
  newChallengeToken,
  newRecoveryCode,
  newTotpSecret,
  normalizeCode,
  otpauthUri,
  RECOVERY_CODE_COUNT,
} from "./totp-codes.ts";
import { TotpSecretBox } from "./totp-secret-box.ts";
import type { TotpCredentialRow, TwoFactorRepository } from "./two-factor.repository.ts";
import type { SessionTokensView } from "./user-view.ts";
import type { UsersTables } from "./users.tables.ts";

/** Settings of TOTP two-factor (`auth.totp.*`). */
export interface TwoFactorSettings {
  /** Issuer shown by authenticator apps. */
  issuer: string;
  /** Lifetime of a sign-in challenge. */
  challengeTtlSeconds: number;
  /** Wrong codes a challenge survives; the next one kills it. */
  challengeMaxAttempts: number;
  /** Base64 AES-256 key encrypting secrets at rest; empty stores them unencrypted. */
  secretKey: string;
}

/** What TwoFactorService needs. */
export interface TwoFactorServiceDeps {
  db: Kysely<UsersTables>;
  repo: TwoFactorRepository;
  accounts: AccountRepository;
  sessionIssuer: SessionIssuer;
  logger: Logger;
  settings: TwoFactorSettings;
  /** Clock in ms; tests move it to cross time steps. */
  now?: () => number;
}

/** The caller's 2FA state. */
export interface TwoFactorStatusView {
  enabled: boolean;
  enrolmentPending: boolean;
  recoveryCodesRemaining: number;
}

/** What spending a second-factor code found. */
export type SpentCode =
  | { ok: true; kind: "totp" | "recovery" }
  | { ok: false; reason: "invalid" | "replayed" };

const INVALID_CODE = "Invalid or already used code";
const DEAD_CHALLENGE = "This sign-in has expired; sign in again";
// Bounds on client-sent strings, so a huge value costs nothing to reject.
const MAX_CODE_LENGTH = 64;
const MAX_CHALLENGE_LENGTH = 128;

/**
 * TOTP two-factor rules (AUTH-3): enrolment, recovery codes, disabling, and
 * the second step of a sign-in. A TOTP time step is accepted at most once per
 * account (and never one older than the last accepted); recovery codes are
 * single-use; a challenge dies once answered, expired or after too many wrong codes.
 */
export class TwoFactorService {
  private readonly now: () => number;
  private readonly box: TotpSecretBox;

  constructor(private readonly deps: TwoFactorServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.box = new TotpSecretBox(deps.settings.secretKey);
  }

  /**
   * Called by every password sign-in once the password is proven: when the
   * account has 2FA on, no session is made; TWO_FACTOR_REQUIRED carries a
   * single-use challenge for {@link completeSignIn}.
   */
  async demandSecondFactor(account: AccountRow, ip: string): Promise<void> {
    const accountId = String(account.id);
    if (!(await this.deps.repo.isEnabled(accountId))) return;
    const token = newChallengeToken();
    const now = this.now();
    await this.deps.repo.createChallenge(
      hashChallengeToken(token),
      accountId,
      new Date(now + this.deps.settings.challengeTtlSeconds * 1000),
    );
    // Housekeeping piggybacks on sign-ins: expired challenges are useless rows.
    await this.deps.repo.deleteExpiredChallenges(new Date(now - 86_400_000));
    audit(this.deps.logger, { action: "SIGN_IN_SECOND_FACTOR_REQUIRED", actor: accountId, ip });
    throw new BeepError("TWO_FACTOR_REQUIRED", "Enter the code from your authenticator app", {
      challengeToken: token,
    });
  }

  /** Starts (or restarts) enrolment with a new pending secret. */
  async beginEnrolment(userId: string): Promise<{ secret: string; otpauthUri: string }> {
    const account = await this.requireAccount(userId);
    const secret = newTotpSecret();
    if (!(await this.deps.repo.savePending(userId, this.box.seal(secret, userId)))) {
      throw new BeepError("CONFLICT", "Two-factor authentication is already on", { field: "totp" });
    }
    audit(this.deps.logger, { action: "TOTP_ENROLMENT_STARTED", actor: userId, target: userId });
    return { secret, otpauthUri: otpauthUri(secret, this.deps.settings.issuer, account.email) };
  }

  /** Turns 2FA on with a code of the pending secret; returns the recovery codes (shown once). */
  async confirmEnrolment(userId: string, code: string): Promise<string[]> {
    const normalized = normalizeCode(code);
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const outcome = await this.deps.db.transaction().execute(async (trx) => {
      const credential = await this.deps.repo.findCredential(userId, trx, true);
      if (!credential) return "no-enrolment" as const;
      if (credential.confirmed_at) return "already-on" as const;
      const step = matchingTimeStep(this.secretOf(credential), normalized, this.now());
      if (step === undefined || !(await this.deps.repo.acceptStep(trx, userId, step, true))) {
        return "invalid" as const;
      }
      await this.deps.repo.replaceRecoveryCodes(trx, userId, codes.map(hashRecoveryCode));
      return "enabled" as const;
    });
    if (outcome === "no-enrolment") {
      throw new BeepError("BAD_USER_INPUT", "Begin TOTP enrolment first", { field: "code" });
    }
    if (outcome === "already-on") {
      throw new BeepError("CONFLICT", "Two-factor authentication is already on", { field: "totp" });
    }
    if (outcome === "invalid") throw new BeepError("BAD_USER_INPUT", INVALID_CODE, { field: "code" });
    audit(this.deps.logger, { action: "TOTP_ENABLED", actor: userId, target: userId });
    return codes;
  }

  /** Turns 2FA off; needs a current TOTP code or an unused recovery code. */
  async disable(userId: string, code: string, ip?: string): Promise<TwoFactorStatusView> {
    await this.withProvenCode(userId, code, "TOTP_DISABLED", ip, async (trx) => {
      await this.deps.repo.deleteAll(trx, userId);
    });
    return this.status(userId);
  }

  /** Replaces every recovery code; needs a current TOTP code or an unused recovery code. */
  async regenerateRecoveryCodes(userId: string, code: string, ip?: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.withProvenCode(userId, code, "RECOVERY_CODES_REGENERATED", ip, async (trx) => {
      await this.deps.repo.replaceRecoveryCodes(trx, userId, codes.map(hashRecoveryCode));
    });
    return codes;
  }

  /** The caller's 2FA state. */
  async status(userId: string): Promise<TwoFactorStatusView> {
    const credential = await this.deps.repo.findCredential(userId);
    const enabled = Boolean(credential?.confirmed_at);
    return {
      enabled,
      enrolmentPending: credential !== undefined && !enabled,
      recoveryCodesRemaining: enabled ? await this.deps.repo.countUnusedRecoveryCodes(userId) : 0,
    };
  }

  /**
   * Second step of a sign-in: a TOTP code or a recovery code against the
   * challenge of TWO_FACTOR_REQUIRED. A wrong code counts against the
   * challenge (dead after `challengeMaxAttempts`); a right one consumes it.
   */
  async completeSignIn(input: {
    challengeToken: string;
    code: string;
    device: string;
    ip: string;
  }): Promise<SessionTokensView> {
    if (input.challengeToken.length === 0 || input.challengeToken.length > MAX_CHALLENGE_LENGTH) {
      throw new BeepError("UNAUTHENTICATED", DEAD_CHALLENGE);
    }
    const tokenHash = hashChallengeToken(input.challengeToken);
    const outcome = await this.deps.db.transaction().execute(async (trx) => {
      // Lock order credential → challenge, the same as disable (credential → its challenges), so they cannot deadlock.
      const accountId = await this.deps.repo.challengeAccount(trx, tokenHash);
      if (!accountId) return { result: "dead" as const };
      const credential = await this.deps.repo.findCredential(accountId, trx, true);
      const challenge = await this.deps.repo.findLiveChallengeForUpdate(
        trx,
        tokenHash,
        this.deps.settings.challengeMaxAttempts,
        new Date(this.now()),
      );
      const account = await this.deps.accounts.findById(accountId, trx);
      // 2FA turned off (or account gone) since the challenge: the challenge means nothing now.
      if (!challenge || !credential?.confirmed_at || !account) return { result: "dead" as const };
      const spent = await this.spendCode(trx, credential, input.code);
      if (!spent.ok) {
        await this.deps.repo.recordFailedAttempt(trx, tokenHash);
        const attemptsLeft = this.deps.settings.challengeMaxAttempts - challenge.failed_attempts - 1;
        return { result: "wrong" as const, accountId, reason: spent.reason, attemptsLeft };
      }
      await this.deps.repo.consumeChallenge(trx, tokenHash);
      return { result: "ok" as const, account, kind: spent.kind };
    });
    if (outcome.result === "dead") throw new BeepError("UNAUTHENTICATED", DEAD_CHALLENGE);
    if (outcome.result === "wrong") {
      audit(this.deps.logger, {
        action: "SIGN_IN_SECOND_FACTOR_FAILED",
        actor: outcome.accountId,
        outcome: "failure",
        ip: input.ip,
        details: { reason: outcome.reason, attempts_left: outcome.attemptsLeft },
      });
      throw new BeepError(
        "UNAUTHENTICATED",
        outcome.attemptsLeft > 0 ? INVALID_CODE : `${INVALID_CODE}; sign in again`,
      );
    }
    const accountId = String(outcome.account.id);
    if (outcome.kind === "recovery") this.auditRecoveryCodeUsed(accountId, input.ip);
    audit(this.deps.logger, {
      action: "SIGN_IN",
      actor: accountId,
      outcome: "success",
      ip: input.ip,
      details: { second_factor: outcome.kind },
    });
    return this.deps.sessionIssuer.issue(outcome.account, input);
  }

  /**
   * Spends a TOTP or recovery code of the account inside `trx` (locking its
   * credential), for flows other than sign-in that need the second factor
   * (password reset). Undefined when 2FA is off.
   */
  async proveSecondFactor(
    trx: Transaction<UsersTables>,
    accountId: string,
    code: string,
  ): Promise<SpentCode | undefined> {
    const credential = await this.deps.repo.findCredential(accountId, trx, true);
    if (!credential?.confirmed_at) return undefined;
    return this.spendCode(trx, credential, code);
  }

  // Runs `change` in the transaction that spends the code, so a refused code changes nothing.
  private async withProvenCode(
    userId: string,
    code: string,
    action: Uppercase<string>,
    ip: string | undefined,
    change: (trx: Transaction<UsersTables>) => Promise<void>,
  ): Promise<void> {
    const spent = await this.deps.db.transaction().execute(async (trx) => {
      const credential = await this.deps.repo.findCredential(userId, trx, true);
      if (!credential?.confirmed_at) return undefined;
      const result = await this.spendCode(trx, credential, code);
      if (result.ok) await change(trx);
      return result;
    });
    if (!spent) throw new BeepError("BAD_USER_INPUT", "Two-factor authentication is off", { field: "code" });
    if (!spent.ok) {
      audit(this.deps.logger, {
        action,
        actor: userId,
        target: userId,
        outcome: "failure",
        ip,
        details: { reason: spent.reason },
      });
      throw new BeepError("BAD_USER_INPUT", INVALID_CODE, { field: "code" });
    }
    if (spent.kind === "recovery") this.auditRecoveryCodeUsed(userId, ip);
    audit(this.deps.logger, { action, actor: userId, target: userId, ip });
  }

  // Accepts a TOTP code (its time step, once) or an unused recovery code (once), atomically.
  private async spendCode(
    trx: Transaction<UsersTables>,
    credential: TotpCredentialRow,
    code: string,
  ): Promise<SpentCode> {
    const accountId = String(credential.account_id);
    const normalized = normalizeCode(code);
    if (code.length > MAX_CODE_LENGTH || normalized.length === 0) {
      return { ok: false, reason: "invalid" };
    }
    if (isTotpCode(normalized)) {
      const step = matchingTimeStep(this.secretOf(credential), normalized, this.now());
      if (step === undefined) return { ok: false, reason: "invalid" };
      return (await this.deps.repo.acceptStep(trx, accountId, step))
        ? { ok: true, kind: "totp" }
        : { ok: false, reason: "replayed" };
    }
    return (await this.deps.repo.useRecoveryCode(trx, accountId, hashRecoveryCode(normalized)))
      ? { ok: true, kind: "recovery" }
      : { ok: false, reason: "invalid" };
  }

  private secretOf(credential: TotpCredentialRow): string {
    return this.box.open(credential.secret, String(credential.account_id));
  }

  private auditRecoveryCodeUsed(accountId: string, ip: string | undefined): void {
    audit(this.deps.logger, { action: "RECOVERY_CODE_USED", actor: accountId, target: accountId, ip });
  }

  private async requireAccount(userId: string): Promise<AccountRow> {
    const account = await this.deps.accounts.findById(userId);
    if (!account) throw new BeepError("UNAUTHENTICATED", "Account no longer exists");
    return account;
  }
}
