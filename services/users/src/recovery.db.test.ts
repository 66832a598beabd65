import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import type { BeepError } from "@beep/errors";
import { newId } from "@beep/ids";
import type { Mailer, MailMessage } from "@beep/mail";
import { createLogger } from "@beep/observability";
import { type Kysely, sql } from "kysely";
import { Secret, TOTP } from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountRepository } from "./account.repository.ts";
import { CodeBook } from "./code-book.ts";
import { EmailChangeService } from "./email-change.service.ts";
import { OneTimeCodeRepository } from "./one-time-code.repository.ts";
import { PasswordHasher } from "./password-hasher.ts";
import { PasswordResetService } from "./password-reset.service.ts";
import { ProfileRepository } from "./profile.repository.ts";
import { RecoveryRepository } from "./recovery.repository.ts";
import { SessionRepository } from "./session.repository.ts";
import { hashRefreshToken, SessionIssuer } from "./session-issuer.ts";
import { SessionLiveness } from "./session-liveness.ts";
import { SessionsRepository } from "./sessions.repository.ts";
import { SigningKeyRepository } from "./signing-key.repository.ts";
import { openUsersTestDatabase, type UsersTestDatabase } from "./testing/users-test-database.ts";
import { TokenIssuer } from "./token-issuer.ts";
import { TwoFactorRepository } from "./two-factor.repository.ts";
import { TwoFactorService } from "./two-factor.service.ts";
import type { UsersTables } from "./users.tables.ts";

const PASSWORD = "correct horse battery staple";
const NEW_PASSWORD = "a much newer passphrase";
let clock = 1_900_000_000_000;
const codeAt = (secret: string) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: clock });

let testDatabase: UsersTestDatabase;
let db: Kysely<UsersTables>;
let hasher: PasswordHasher;
let accounts: AccountRepository;
let sessions: SessionRepository;
let liveness: SessionLiveness;
let twoFactor: TwoFactorService;
let reset: PasswordResetService;
let emailChange: EmailChangeService;
const lines: string[] = [];
/** Every mail handed to the mailer (a stand-in for the SMTP peer; the integration tests use a real one). */
const sent: MailMessage[] = [];
const mailer: Mailer = {
  send: async (message) => {
    sent.push(message);
  },
  close: async () => {},
};

async function mailTo(address: string, subject: RegExp): Promise<MailMessage> {
  for (let i = 0; i < 200; i++) {
    const found = sent.find((m) => m.to.toLowerCase() === address.toLowerCase() && subject.test(m.subject));
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no mail to ${address} matching ${subject}`);
}
const codeIn = (mail: MailMessage) => /\b(\d{6})\b/.exec(mail.text)?.[1] as string;
const tokenIn = (mail: MailMessage) => /token=([\w-]+)/.exec(mail.text)?.[1] as string;
const otherCode = (code: string, n: number) => String((Number(code) + n) % 1_000_000).padStart(6, "0");

async function failure(promise: Promise<unknown>): Promise<BeepError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!error) throw new Error("expected a rejection");
  return error as BeepError;
}
const codeOf = async (promise: Promise<unknown>) => {
  const error = await failure(promise);
  return { code: error.code, field: error.details.field };
};

/** An account with two live sessions. */
async function newAccount(language = "en") {
  const id = newId();
  const email = `Rec${id}@Example.org`;
  const { row } = await accounts.insert(db, {
    id,
    email,
    username: `u${id}`,
    password_hash: await hasher.hash(PASSWORD),
    first_name: "Ada",
    last_name: "Lovelace",
    display_name: "",
    bio: "",
    language,
  });
  if (!row) throw new Error("insert failed");
  const sessionIds = [newId(), newId()];
  for (const sessionId of sessionIds) {
    await sessions.create(
      {
        id: sessionId,
        accountId: id,
        device: "t",
        ip: "127.0.0.1",
        expiresAt: new Date(Date.now() + 86_400_000),
      },
      hashRefreshToken(`rt-${sessionId}`),
    );
  }
  return { id, email, row, sessionIds, caller: { userId: id, sessionId: sessionIds[0] as string } };
}

async function passwordIs(id: string, password: string): Promise<boolean> {
  const row = await accounts.findById(id);
  return hasher.verify(row?.password_hash ?? "", password);
}

async function revokedEvents(userId: string) {
  const { rows } = await sql<{ payload: { userId: string; sessionId: string; reason: string } }>`
    select payload from users.outbox where type = 'session.revoked'`.execute(db);
  return rows.map((r) => r.payload).filter((p) => p.userId === userId);
}

async function requestResetCode(email: string) {
  await reset.request({ email });
  return mailTo(email, /password/i);
}

beforeAll(async () => {
  const logger = createLogger({
    service: "users",
    destination: new Writable({
      write(chunk, _encoding, callback) {
        lines.push(...String(chunk).split("\n").filter(Boolean));
        callback();
      },
    }),
  });
  testDatabase = await openUsersTestDatabase({ logger, poolSize: 8 });
  db = testDatabase.db;
  hasher = new PasswordHasher({ memoryKib: 8192, iterations: 1, maxConcurrent: 2 });
  accounts = new AccountRepository(db);
  sessions = new SessionRepository(db);
  liveness = new SessionLiveness(new SessionsRepository(db));
  const tokens = new TokenIssuer(new SigningKeyRepository(db), {
    issuer: "beep",
    audience: "beep-api",
    accessTokenTtlSeconds: 900,
  });
  await tokens.load();
  const settings = {
    issuer: "Beep",
    challengeTtlSeconds: 300,
    challengeMaxAttempts: 5,
    secretKey: randomBytes(32).toString("base64"),
  };
  twoFactor = new TwoFactorService({
    db,
    repo: new TwoFactorRepository(db),
    accounts,
    sessionIssuer: new SessionIssuer(sessions, tokens, 30),
    logger,
    settings,
    now: () => clock,
  });
  const codes = new CodeBook(new OneTimeCodeRepository(db), {
    ttlMinutes: 10,
    maxAttempts: 5,
    maxPerHour: 5,
  });
  const recovery = new RecoveryRepository(db);
  const profiles = new ProfileRepository(db);
  reset = new PasswordResetService({
    db,
    accounts,
    profiles,
    recovery,
    sessions: new SessionsRepository(db),
    liveness,
    codes,
    hasher,
    mailer,
    twoFactor,
    twoFactorRepo: new TwoFactorRepository(db),
    challenge: settings,
    publicUrl: "https://beep.example/",
    logger,
  });
  emailChange = new EmailChangeService({ db, accounts, profiles, recovery, codes, hasher, mailer, logger });
}, 60_000);

afterAll(async () => {
  await testDatabase?.close();
});

describe("forgot password against PostgreSQL", () => {
  it("answers the same for unknown and known emails, mailing only the known one, in its language", async () => {
    const before = sent.length;
    expect(await reset.request({ email: `nobody${newId()}@example.org` })).toEqual({ accepted: true });
    const fr = await newAccount("fr");
    expect(await reset.request({ email: fr.email.toLowerCase() })).toEqual({ accepted: true });
    const mail = await mailTo(fr.email, /mot de passe/);
    expect(mail.text).toContain("Bonjour Ada");
    expect(mail.text).toMatch(/https:\/\/beep\.example\/reset-password\?token=[\w-]{40,}/);
    expect(sent.length).toBe(before + 1);
  });

  it("resets with the code: new password, every session revoked with events, code single use", async () => {
    const a = await newAccount();
    const code = codeIn(await requestResetCode(a.email));
    expect(await codeOf(reset.reset({ email: a.email, code, linkToken: "", newPassword: "short" }))).toEqual({
      code: "BAD_USER_INPUT",
      field: "newPassword",
    });
    const done = await reset.reset({ email: a.email, code, linkToken: "", newPassword: NEW_PASSWORD });
    expect(done).toEqual({ revokedSessions: 2 });
    expect(await passwordIs(a.id, NEW_PASSWORD)).toBe(true);
    expect(await passwordIs(a.id, PASSWORD)).toBe(false);
    const events = await revokedEvents(a.id);
    expect(events.map((e) => e.sessionId).sort()).toEqual([...a.sessionIds].sort());
    expect(new Set(events.map((e) => e.reason))).toEqual(new Set(["password_reset"]));
    for (const sessionId of a.sessionIds) expect(await liveness.isLive(sessionId, a.id)).toBe(false);
    expect(
      await codeOf(
        reset.reset({ email: a.email, code, linkToken: "", newPassword: "yet another passphrase" }),
      ),
    ).toEqual({ code: "BAD_USER_INPUT", field: "code" });
    expect(await passwordIs(a.id, NEW_PASSWORD)).toBe(true);
    const audit = lines.find(
      (l) => l.includes('"PASSWORD_RESET"') && l.includes('"success"') && l.includes(a.id),
    );
    expect(audit).toBeDefined();
    expect(lines.join("\n")).not.toContain(NEW_PASSWORD);
    expect(lines.join("\n")).not.toContain(code);
  });

  it("resets with the link token alone", async () => {
    const a = await newAccount();
    const token = tokenIn(await requestResetCode(a.email));
    await reset.reset({ email: "", code: "", linkToken: token, newPassword: NEW_PASSWORD });
    expect(await passwordIs(a.id, NEW_PASSWORD)).toBe(true);
    expect(
      await codeOf(reset.reset({ email: "", code: "", linkToken: token, newPassword: NEW_PASSWORD })),
    ).toEqual({ code: "BAD_USER_INPUT", field: "code" });
  });

  it("kills the code after 5 wrong guesses, and refuses unknown emails the same way", async () => {
    const a = await newAccount();
    const code = codeIn(await requestResetCode(a.email));
    for (let n = 1; n <= 5; n++) {
      expect(
        (
          await codeOf(
            reset.reset({
              email: a.email,
              code: otherCode(code, n),
              linkToken: "",
              newPassword: NEW_PASSWORD,
            }),
          )
        ).code,
      ).toBe("BAD_USER_INPUT");
    }
    expect(
      await codeOf(reset.reset({ email: a.email, code, linkToken: "", newPassword: NEW_PASSWORD })),
    ).toEqual({
      code: "BAD_USER_INPUT",
      field: "code",
    });
    expect(await passwordIs(a.id, PASSWORD)).toBe(true);
    const unknown = await failure(
      reset.reset({ email: `x${newId()}@example.org`, code, linkToken: "", newPassword: NEW_PASSWORD }),
    );
    expect({ code: unknown.code, message: unknown.message }).toEqual({
      code: "BAD_USER_INPUT",
      message: "Invalid or expired code",
    });
  });

  it("with 2FA on, the mailed code alone does not reset: a TOTP code must answer the challenge", async () => {
    const a = await newAccount();
    const { secret } = await twoFactor.beginEnrolment(a.id);
    const recoveryCodes = await twoFactor.confirmEnrolment(a.id, codeAt(secret));
    clock += 30_000;
    const code = codeIn(await requestResetCode(a.email));
    const demanded = await failure(
      reset.reset({ email: a.email, code, linkToken: "", newPassword: NEW_PASSWORD }),
    );
    expect(demanded.code).toBe("TWO_FACTOR_REQUIRED");
    const challengeToken = demanded.details.challengeToken as string;
    expect(challengeToken.length).toBeGreaterThan(20);
    expect(await passwordIs(a.id, PASSWORD)).toBe(true);
    expect(await revokedEvents(a.id)).toEqual([]);
    // The mailed code is spent; the challenge cannot complete a sign-in either.
    expect(
      (await failure(reset.reset({ email: a.email, code, linkToken: "", newPassword: NEW_PASSWORD }))).code,
    ).toBe("BAD_USER_INPUT");
    expect(
      (
        await failure(
          twoFactor.completeSignIn({ challengeToken, code: codeAt(secret), device: "d", ip: "i" }),
        )
      ).code,
    ).toBe("UNAUTHENTICATED");
    expect((await failure(reset.complete({ challengeToken, code: "000000" }))).code).toBe("UNAUTHENTICATED");
    expect(await passwordIs(a.id, PASSWORD)).toBe(true);
    expect(await reset.complete({ challengeToken, code: codeAt(secret) })).toEqual({ revokedSessions: 2 });
    expect(await passwordIs(a.id, NEW_PASSWORD)).toBe(true);
    expect((await failure(reset.complete({ challengeToken, code: recoveryCodes[0] as string }))).code).toBe(
      "UNAUTHENTICATED",
    );
  });

  it("with 2FA on, a recovery code also completes, and 5 wrong codes kill the challenge", async () => {
    const a = await newAccount();
    const { secret } = await twoFactor.beginEnrolment(a.id);
    const recoveryCodes = await twoFactor.confirmEnrolment(a.id, codeAt(secret));
    clock += 30_000;
    const challenge = async () => {
      const code = codeIn(await requestResetCode(a.email));
      sent.length = 0;
      const error = await failure(
        reset.reset({ email: a.email, code, linkToken: "", newPassword: NEW_PASSWORD }),
      );
      return error.details.challengeToken as string;
    };
    const first = await challenge();
    for (let n = 0; n < 5; n++) await failure(reset.complete({ challengeToken: first, code: "12345" }));
    expect((await failure(reset.complete({ challengeToken: first, code: codeAt(secret) }))).code).toBe(
      "UNAUTHENTICATED",
    );
    expect(await passwordIs(a.id, PASSWORD)).toBe(true);
    const second = await challenge();
    await reset.complete({ challengeToken: second, code: recoveryCodes[1] as string });
    expect(await passwordIs(a.id, NEW_PASSWORD)).toBe(true);
  });
});

describe("email change against PostgreSQL", () => {
  it("refuses a wrong current password and a taken email (any case)", async () => {
    const a = await newAccount();
    const b = await newAccount();
    expect(
      await codeOf(
        emailChange.request(a.caller, { newEmail: `n${newId()}@example.org`, currentPassword: "nope" }),
      ),
    ).toEqual({ code: "UNAUTHENTICATED", field: "currentPassword" });
    expect(
      await codeOf(
        emailChange.request(a.caller, { newEmail: b.email.toUpperCase(), currentPassword: PASSWORD }),
      ),
    ).toEqual({ code: "CONFLICT", field: "email" });
    expect(
      await codeOf(emailChange.request(a.caller, { newEmail: "not-an-email", currentPassword: PASSWORD })),
    ).toEqual({ code: "BAD_USER_INPUT", field: "newEmail" });
  });

  it("mails a code to the new address and a notice to the old; the code switches the email, verified", async () => {
    const a = await newAccount();
    const newEmail = `New${newId()}@example.org`;
    expect(await emailChange.request(a.caller, { newEmail, currentPassword: PASSWORD })).toEqual({
      accepted: true,
    });
    const codeMail = await mailTo(newEmail, /Confirm your new Beep e-mail/);
    const notice = await mailTo(a.email, /is being changed/);
    expect(notice.text).not.toMatch(/\b\d{6}\b/);
    expect((await accounts.findById(a.id))?.email).toBe(a.email);
    const code = codeIn(codeMail);
    expect(await codeOf(emailChange.confirm(a.caller, { code: otherCode(code, 1) }))).toEqual({
      code: "BAD_USER_INPUT",
      field: "code",
    });
    const { user } = await emailChange.confirm(a.caller, { code });
    expect(user.email).toBe(newEmail);
    const row = await accounts.findById(a.id);
    expect(row?.email_normalized).toBe(newEmail.toLowerCase());
    expect(row?.email_verified_at).not.toBeNull();
    const { rows } = await sql<{ payload: { user: { id: string; email: string } } }>`
      select payload from users.outbox where type = 'user.updated'`.execute(db);
    expect(rows.some((r) => r.payload.user.id === a.id && r.payload.user.email === newEmail)).toBe(true);
    expect((await codeOf(emailChange.confirm(a.caller, { code }))).code).toBe("BAD_USER_INPUT");
  });

  it("checks the address again at confirm time", async () => {
    const a = await newAccount();
    const b = await newAccount();
    const newEmail = `race${newId()}@example.org`;
    await emailChange.request(a.caller, { newEmail, currentPassword: PASSWORD });
    const code = codeIn(await mailTo(newEmail, /Confirm/));
    await db
      .updateTable("accounts")
      .set({ email: newEmail, email_normalized: newEmail })
      .where("id", "=", b.id)
      .execute();
    expect(await codeOf(emailChange.confirm(a.caller, { code }))).toEqual({
      code: "CONFLICT",
      field: "email",
    });
    expect((await accounts.findById(a.id))?.email).toBe(a.email);
  });

  it("ends reset codes mailed to the old address once the email changes", async () => {
    const a = await newAccount();
    const resetCode = codeIn(await requestResetCode(a.email));
    const newEmail = `moved${newId()}@example.org`;
    await emailChange.request(a.caller, { newEmail, currentPassword: PASSWORD });
    await emailChange.confirm(a.caller, { code: codeIn(await mailTo(newEmail, /Confirm/)) });
    expect(
      (
        await codeOf(
          reset.reset({ email: newEmail, code: resetCode, linkToken: "", newPassword: NEW_PASSWORD }),
        )
      ).code,
    ).toBe("BAD_USER_INPUT");
    expect(await passwordIs(a.id, PASSWORD)).toBe(true);
  });
});
