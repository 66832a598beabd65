import { createHash, randomBytes, randomInt, timingSafeEqual } from "node:crypto";
import { newId } from "@beep/ids";
import type { Transaction } from "kysely";
import type { CodePurpose, OneTimeCodeRepository } from "./one-time-code.repository.ts";
import type { UsersTables } from "./users.tables.ts";

type Trx = Transaction<UsersTables>;

/** Limits of one-time codes (the `codes.*` config). */
export interface CodeBookOptions {
  ttlMinutes: number;
  maxAttempts: number;
  maxPerHour: number;
}

/** A freshly issued code, to be sent; never stored or logged in clear. */
export interface IssuedCode {
  code: string;
  /** 256-bit token for a link, when asked for. */
  linkToken?: string;
}

/** What redeeming a code found. */
export type Redeemed = { ok: true; accountId: string; destination: string } | { ok: false };

// Why the id is in the hash: equal codes of different rows hash differently, so
// one precomputed table of the 10^6 codes does not cover every row.
const hashCode = (id: string, code: string): Buffer => createHash("sha256").update(`${id}:${code}`).digest();
const hashLinkToken = (token: string): string => createHash("sha256").update(token).digest("hex");

/**
 * Issues and checks one-time codes: 6 digits, stored hashed, expiring, single
 * use, dead after maxAttempts wrong guesses; a new code replaces the previous
 * one; at most maxPerHour per account and purpose, so replacing codes cannot
 * be used to buy unlimited guesses.
 */
export class CodeBook {
  constructor(
    private readonly repo: OneTimeCodeRepository,
    private readonly options: CodeBookOptions,
  ) {}

  /** Minutes a code lives, for the message that carries it. */
  get ttlMinutes(): number {
    return this.options.ttlMinutes;
  }

  /** A new code for the account, or undefined when the hourly cap is reached. */
  async issue(
    accountId: string,
    purpose: CodePurpose,
    destination: string,
    withLink = false,
  ): Promise<IssuedCode | undefined> {
    const hourAgo = new Date(Date.now() - 3_600_000);
    if ((await this.repo.countSince(accountId, purpose, hourAgo)) >= this.options.maxPerHour)
      return undefined;
    const id = newId();
    const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
    const linkToken = withLink ? randomBytes(32).toString("base64url") : undefined;
    await this.repo.transaction((trx) =>
      this.repo.replace(trx, {
        id,
        account_id: accountId,
        purpose,
        destination,
        code_hash: hashCode(id, code).toString("hex"),
        link_token_hash: linkToken ? hashLinkToken(linkToken) : null,
        expires_at: new Date(Date.now() + this.options.ttlMinutes * 60_000),
      }),
    );
    return { code, ...(linkToken && { linkToken }) };
  }

  /**
   * Checks a guess against the account's live code; a right guess uses it up,
   * a wrong one counts, and `onSuccess` runs in the same transaction.
   */
  redeem(
    accountId: string,
    purpose: CodePurpose,
    guess: string,
    onSuccess?: (trx: Trx, destination: string) => Promise<void>,
  ): Promise<Redeemed> {
    return this.repo.transaction(async (trx) => {
      const row = await this.repo.findLiveForUpdate(trx, accountId, purpose);
      if (!row || row.attempts >= this.options.maxAttempts) return { ok: false };
      const expected = Buffer.from(row.code_hash, "hex");
      if (!/^\d{6}$/.test(guess) || !timingSafeEqual(expected, hashCode(String(row.id), guess))) {
        await this.repo.addAttempt(trx, String(row.id));
        return { ok: false };
      }
      await this.repo.markUsed(trx, String(row.id));
      await onSuccess?.(trx, row.destination);
      return { ok: true, accountId: String(row.account_id), destination: row.destination };
    });
  }

  /** Uses up the live code whose link carries this token, if any. */
  redeemLink(
    token: string,
    purpose: CodePurpose,
    onSuccess?: (trx: Trx, accountId: string, destination: string) => Promise<void>,
  ): Promise<Redeemed> {
    return this.repo.transaction(async (trx) => {
      const row = await this.repo.findLiveByLinkForUpdate(trx, hashLinkToken(token));
      if (!row || row.purpose !== purpose) return { ok: false };
      await this.repo.markUsed(trx, String(row.id));
      await onSuccess?.(trx, String(row.account_id), row.destination);
      return { ok: true, accountId: String(row.account_id), destination: row.destination };
    });
  }
}
