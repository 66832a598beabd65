import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { type BeepError, isErrorCode } from "@beep/errors";
import { newId } from "@beep/ids";
import { createLogger } from "@beep/observability";
import type { Kysely } from "kysely";
import { Secret, TOTP } from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountRepository, type AccountRow } from "./account.repository.ts";
import { SessionRepository } from "./session.repository.ts";
import { SessionIssuer } from "./session-issuer.ts";
import { SigningKeyRepository } from "./signing-key.repository.ts";
import { openUsersTestDatabase, type UsersTestDatabase } from "./testing/users-test-database.ts";
import { TokenIssuer } from "./token-issuer.ts";
import { TwoFactorRepository } from "./two-factor.repository.ts";
import { TwoFactorService } from "./two-factor.service.ts";
import type { UsersTables } from "./users.tables.ts";

let testDatabase: UsersTestDatabase;
let db: Kysely<UsersTables>;
let service: TwoFactorService;
let clock = 1_900_000_000_000;
const lines: string[] = [];

const codeAt = (secret: string, timestamp = clock) =>
  TOTP.generate({ secret: Secret.fromBase32(secret), timestamp });

async function failure(promise: Promise<unknown>): Promise<BeepError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeDefined();
  expect(isErrorCode((error as BeepError).code)).toBe(true);
  return error as BeepError;
}

async function newAccount(): Promise<AccountRow> {
  const id = newId();
  const { row } = await new AccountRepository(db).insert(db, {
    id,
    email: `u${id}@example.org`,
    username: `u${id}`,
    password_hash: "x",
    first_name: "A",
    last_name: "B",
    display_name: "",
    bio: "",
  });
  return row as AccountRow;
}

/** An account with 2FA on; its secret and recovery codes. */
async function enrolled() {
  const account = await newAccount();
  const id = String(account.id);
  const { secret } = await service.beginEnrolment(id);
  const recoveryCodes = await service.confirmEnrolment(id, codeAt(secret));
  clock += 30_000; // the confirming step is spent; the next sign-in uses a new one
  return { account, id, secret, recoveryCodes };
}

async function challengeFor(account: AccountRow): Promise<string> {
  const error = await failure(service.demandSecondFactor(account, "127.0.0.1"));
  expect(error.code).toBe("TWO_FACTOR_REQUIRED");
  return error.details.challengeToken as string;
}

const client = { device: "test", ip: "127.0.0.1" };

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
  const tokens = new TokenIssuer(new SigningKeyRepository(db), {
    issuer: "beep",
    audience: "beep-api",
    accessTokenTtlSeconds: 900,
  });
  await tokens.load();
  service = new TwoFactorService({
    db,
    repo: new TwoFactorRepository(db),
    accounts: new AccountRepository(db),
    sessionIssuer: new SessionIssuer(new SessionRepository(db), tokens, 30),
    logger,
    settings: {
      issuer: "Beep",
      challengeTtlSeconds: 300,
      challengeMaxAttempts: 5,
      secretKey: randomBytes(32).toString("base64"),
    },
    now: () => clock,
  });
}, 60_000);

afterAll(async () => {
  await testDatabase?.close();
});

describe("TOTP two-factor against PostgreSQL", () => {
  it("keeps enrolment pending until a valid code confirms it", async () => {
    const account = await newAccount();
    const id = String(account.id);
    const { secret, otpauthUri } = await service.beginEnrolment(id);
    expect(otpauthUri).toContain(`secret=${secret}`);
    const stored = await db
      .selectFrom("totp_credentials")
      .select("secret")
      .where("account_id", "=", id)
      .executeTakeFirstOrThrow();
    expect(stored.secret).toMatch(/^enc:v1:/);
    expect(stored.secret).not.toContain(secret);
    expect(await service.status(id)).toEqual({
      enabled: false,
      enrolmentPending: true,
      recoveryCodesRemaining: 0,
    });
    // Pending: signing in still needs no code.
    await expect(service.demandSecondFactor(account, "127.0.0.1")).resolves.toBeUndefined();
    expect((await failure(service.confirmEnrolment(id, "000000"))).code).toBe("BAD_USER_INPUT");
    const codes = await service.confirmEnrolment(id, codeAt(secret));
    expect(codes).toHaveLength(10);
    expect(await service.status(id)).toEqual({
      enabled: true,
      enrolmentPending: false,
      recoveryCodesRemaining: 10,
    });
    expect((await failure(service.beginEnrolment(id))).code).toBe("CONFLICT");
  });

  it("refuses a TOTP code replayed within its window, and an older one after a newer", async () => {
    const { account, secret } = await enrolled();
    const code = codeAt(secret);
    const first = await service.completeSignIn({
      challengeToken: await challengeFor(account),
      code,
      ...client,
    });
    expect(first.accessToken.split(".")).toHaveLength(3);
    const replay = await failure(
      service.completeSignIn({ challengeToken: await challengeFor(account), code, ...client }),
    );
    expect(replay.code).toBe("UNAUTHENTICATED");
    // The previous step's code is still inside the ±1 window but older than the accepted one.
    clock += 30_000;
    const previous = codeAt(secret, clock - 30_000);
    const challenge = await challengeFor(account);
    expect(
      (await failure(service.completeSignIn({ challengeToken: challenge, code: previous, ...client }))).code,
    ).toBe("UNAUTHENTICATED");
    // The wrong code did not consume the challenge: the fresh code still works with it.
    await service.completeSignIn({ challengeToken: challenge, code: codeAt(secret), ...client });
    clock += 30_000;
  });

  it("lets only one of two concurrent requests with the same code win", async () => {
    const { account, secret } = await enrolled();
    const code = codeAt(secret);
    const [a, b] = [await challengeFor(account), await challengeFor(account)];
    const results = await Promise.allSettled([
      service.completeSignIn({ challengeToken: a, code, ...client }),
      service.completeSignIn({ challengeToken: b, code, ...client }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    clock += 30_000;
  });

  it("accepts each recovery code once, in any case and spacing", async () => {
    const { account, id, recoveryCodes } = await enrolled();
    const [code] = recoveryCodes as [string];
    await service.completeSignIn({
      challengeToken: await challengeFor(account),
      code: code.toUpperCase().replaceAll("-", " "),
      ...client,
    });
    expect((await service.status(id)).recoveryCodesRemaining).toBe(9);
    const again = await failure(
      service.completeSignIn({ challengeToken: await challengeFor(account), code, ...client }),
    );
    expect(again.code).toBe("UNAUTHENTICATED");
    expect(lines.some((l) => l.includes('"RECOVERY_CODE_USED"') && l.includes(id))).toBe(true);
  });

  it("kills a challenge after 5 wrong codes, even for the right code afterwards", async () => {
    const { account, secret } = await enrolled();
    const challenge = await challengeFor(account);
    for (let i = 0; i < 5; i++) {
      await failure(service.completeSignIn({ challengeToken: challenge, code: "000000", ...client }));
    }
    const dead = await failure(
      service.completeSignIn({ challengeToken: challenge, code: codeAt(secret), ...client }),
    );
    expect(dead.message).toMatch(/sign in again/);
    // The code itself was not spent by the dead challenge: a new challenge takes it.
    await service.completeSignIn({
      challengeToken: await challengeFor(account),
      code: codeAt(secret),
      ...client,
    });
    clock += 30_000;
  });

  it("expires a challenge after its lifetime", async () => {
    const { account, secret } = await enrolled();
    const challenge = await challengeFor(account);
    clock += 301_000;
    expect(
      (await failure(service.completeSignIn({ challengeToken: challenge, code: codeAt(secret), ...client })))
        .code,
    ).toBe("UNAUTHENTICATED");
    // A new sign-in gets a new challenge that works.
    await service.completeSignIn({
      challengeToken: await challengeFor(account),
      code: codeAt(secret),
      ...client,
    });
    clock += 30_000;
  });

  it("disables only with a valid, unspent code; regenerating replaces every recovery code", async () => {
    const { id, secret, recoveryCodes } = await enrolled();
    const fresh = await service.regenerateRecoveryCodes(id, codeAt(secret));
    expect(fresh).toHaveLength(10);
    expect(fresh.some((c) => recoveryCodes.includes(c))).toBe(false);
    expect((await failure(service.disable(id, recoveryCodes[0] as string))).code).toBe("BAD_USER_INPUT");
    expect((await failure(service.disable(id, codeAt(secret)))).code).toBe("BAD_USER_INPUT"); // replay
    expect((await service.status(id)).enabled).toBe(true);
    expect(await service.disable(id, fresh[3] as string)).toEqual({
      enabled: false,
      enrolmentPending: false,
      recoveryCodesRemaining: 0,
    });
  });

  it("lets disable race with a sign-in's second step without a database error", async () => {
    for (let round = 0; round < 5; round++) {
      const { account, id, recoveryCodes } = await enrolled();
      const challenge = await challengeFor(account);
      const results = await Promise.allSettled([
        service.completeSignIn({ challengeToken: challenge, code: recoveryCodes[0] as string, ...client }),
        service.disable(id, recoveryCodes[1] as string),
      ]);
      for (const result of results) {
        if (result.status === "rejected") expect((result.reason as BeepError).code).toBe("UNAUTHENTICATED");
      }
      expect(results[1]?.status).toBe("fulfilled");
    }
  });

  it("never writes a secret, a code or a challenge token to the log", async () => {
    const { account, secret, recoveryCodes } = await enrolled();
    const challenge = await challengeFor(account);
    await failure(service.completeSignIn({ challengeToken: challenge, code: "123456", ...client }));
    await service.completeSignIn({ challengeToken: challenge, code: recoveryCodes[1] as string, ...client });
    const log = lines.join("\n");
    expect(log).toContain("SIGN_IN_SECOND_FACTOR_FAILED");
    expect(log).toContain("TOTP_ENABLED");
    for (const secretValue of [secret, challenge, ...recoveryCodes, codeAt(secret)]) {
      expect(log).not.toContain(secretValue);
    }
  });
});
