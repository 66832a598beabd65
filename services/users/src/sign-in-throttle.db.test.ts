import { randomBytes } from "node:crypto";
import { BeepError } from "@beep/errors";
import { openRateLimitStore, type RateLimitStore } from "@beep/limits";
import { createLogger } from "@beep/observability";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountRepository } from "./account.repository.ts";
import { PasswordHasher } from "./password-hasher.ts";
import { SessionRepository } from "./session.repository.ts";
import { SessionIssuer } from "./session-issuer.ts";
import { type SignInLimitSettings, SignInThrottle } from "./sign-in-throttle.ts";
import { SigningKeyRepository } from "./signing-key.repository.ts";
import { openUsersTestDatabase, type UsersTestDatabase } from "./testing/users-test-database.ts";
import { TokenIssuer } from "./token-issuer.ts";
import { UsersService } from "./users.service.ts";

const logger = createLogger({ service: "users-test", level: "silent" });
const DEFAULTS: SignInLimitSettings = {
  signInLimitAccountAttempts: 5,
  signInLimitAccountWindowSeconds: 900,
  signInLimitIpAttempts: 1_000,
  signInLimitIpWindowSeconds: 900,
  signInLimitDelayAfterFailures: 0,
  signInLimitDelayBaseMs: 1_000,
  signInLimitDelayMaxMs: 60_000,
};

let testDatabase: UsersTestDatabase;
const stores: RateLimitStore[] = [];
let make: (
  limits: Partial<SignInLimitSettings>,
  hashing?: { memoryKib: number; iterations: number },
) => Promise<UsersService>;

beforeAll(async () => {
  testDatabase = await openUsersTestDatabase({ logger, poolSize: 4 });
  const db = testDatabase.db;
  const tokens = new TokenIssuer(new SigningKeyRepository(db), {
    issuer: "beep",
    audience: "beep-api",
    accessTokenTtlSeconds: 900,
  });
  await tokens.load();
  const sessions = new SessionRepository(db);
  make = async (limits, hashing = { memoryKib: 8_192, iterations: 1 }) => {
    // A fresh memory store per service, so tests do not share counters.
    const store = await openRateLimitStore("memory://");
    stores.push(store);
    return new UsersService({
      db,
      accounts: new AccountRepository(db),
      sessions,
      hasher: new PasswordHasher({ ...hashing, maxConcurrent: 4 }),
      tokens,
      sessionIssuer: new SessionIssuer(sessions, tokens, 30),
      signInThrottle: new SignInThrottle(store, { ...DEFAULTS, ...limits }),
      logger,
    });
  };
}, 60_000);

afterAll(async () => {
  for (const store of stores) await store.close();
  await testDatabase?.close();
});

async function newAccount(service: UsersService) {
  const tag = randomBytes(5).toString("hex");
  const identity = {
    email: `Grace.${tag}@Example.org`,
    username: `grace_${tag}`,
    password: `a long password ${tag}`,
    firstName: "Grace",
    lastName: "Hopper",
  };
  await service.signUp(identity);
  return identity;
}

const client = { device: "vitest", ip: "192.0.2.10" };

async function codeOf(promise: Promise<unknown>): Promise<{ code: string; retryAfterMs?: number }> {
  try {
    await promise;
    return { code: "OK" };
  } catch (error) {
    if (!(error instanceof BeepError)) throw error;
    return {
      code: error.code,
      ...(error.details.retryAfterMs ? { retryAfterMs: error.details.retryAfterMs } : {}),
    };
  }
}

describe("UsersService.signIn brute-force protection", () => {
  it("still accepts the correct password at limit − 1 failed attempts", async () => {
    const service = await make({});
    const who = await newAccount(service);
    for (let i = 0; i < 4; i++) {
      expect((await codeOf(service.signIn({ ...client, email: who.email, password: "wrong" }))).code).toBe(
        "UNAUTHENTICATED",
      );
    }
    const session = await service.signIn({ ...client, email: who.email, password: who.password });
    expect(session.accessToken.split(".")).toHaveLength(3);
    // Success resets the account: another full budget of attempts.
    for (let i = 0; i < 4; i++) await codeOf(service.signIn({ ...client, email: who.email, password: "x" }));
    await expect(
      service.signIn({ ...client, email: who.email, password: who.password }),
    ).resolves.toBeTruthy();
  });

  it("refuses even the correct password at limit + 1, with retryAfterMs, for any case of the email", async () => {
    const service = await make({});
    const who = await newAccount(service);
    for (let i = 0; i < 5; i++)
      await codeOf(service.signIn({ ...client, email: who.email, password: "wrong" }));
    const refused = await codeOf(
      service.signIn({ ...client, email: ` ${who.email.toUpperCase()} `, password: who.password }),
    );
    expect(refused.code).toBe("RATE_LIMITED");
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(900_000);
  });

  it("answers an unknown email exactly like a known one once over the limit", async () => {
    const service = await make({});
    const answers = [];
    for (let i = 0; i < 6; i++) {
      answers.push(
        (await codeOf(service.signIn({ ...client, email: "nobody@example.org", password: "x" }))).code,
      );
    }
    expect(answers).toEqual([...Array(5).fill("UNAUTHENTICATED"), "RATE_LIMITED"]);
  });

  it("limits attempts per IP across accounts, and other IPs are unaffected", async () => {
    const service = await make({ signInLimitIpAttempts: 3 });
    const who = await newAccount(service);
    const ip = "198.51.100.7";
    for (let i = 0; i < 3; i++) {
      await codeOf(service.signIn({ device: "d", ip, email: `spray${i}@example.org`, password: "x" }));
    }
    expect(
      (await codeOf(service.signIn({ device: "d", ip, email: who.email, password: who.password }))).code,
    ).toBe("RATE_LIMITED");
    await expect(
      service.signIn({ ...client, email: who.email, password: who.password }),
    ).resolves.toBeTruthy();
  });

  it("blocks an account for a doubling time after consecutive failures (progressive delay)", async () => {
    const service = await make({
      signInLimitAccountAttempts: 50,
      signInLimitDelayAfterFailures: 2,
      signInLimitDelayBaseMs: 1_000,
    });
    const who = await newAccount(service);
    const attempt = (password: string) => codeOf(service.signIn({ ...client, email: who.email, password }));
    expect((await attempt("wrong")).code).toBe("UNAUTHENTICATED");
    expect((await attempt("wrong")).code).toBe("UNAUTHENTICATED"); // 2nd failure: blocked 1 s
    const first = await attempt(who.password);
    expect(first.code).toBe("RATE_LIMITED");
    expect(first.retryAfterMs).toBeGreaterThan(0);
    expect(first.retryAfterMs).toBeLessThanOrEqual(1_000);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await attempt("wrong")).code).toBe("UNAUTHENTICATED"); // 3rd failure: blocked 2 s
    const second = await attempt(who.password);
    expect(second.code).toBe("RATE_LIMITED");
    expect(second.retryAfterMs).toBeGreaterThan(1_000);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await expect(
      service.signIn({ ...client, email: who.email, password: who.password }),
    ).resolves.toBeTruthy();
  });

  it("takes the same time for an unknown email as for a wrong password (median of 20, within 10%)", async () => {
    // Production-like hashing cost, so the hash dominates and the comparison is meaningful.
    const service = await make(
      { signInLimitAccountAttempts: 1_000, signInLimitDelayAfterFailures: 500 },
      { memoryKib: 19_456, iterations: 2 },
    );
    const who = await newAccount(service);
    const time = async (email: string) => {
      const started = performance.now();
      await codeOf(service.signIn({ ...client, email, password: "not the password" }));
      return performance.now() - started;
    };
    await time(who.email); // warm up
    await time("unknown@example.org");
    const median = (values: number[]) =>
      values.sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    // The machine is shared, so a round can be disturbed: up to 3 rounds of 20 interleaved pairs (order
    // alternating), and a systematic difference fails every round.
    const gaps: number[] = [];
    for (let round = 0; round < 3; round++) {
      const known: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 20; i++) {
        if (i % 2 === 0) {
          known.push(await time(who.email));
          unknown.push(await time(`unknown.${round}.${i}@example.org`));
        } else {
          unknown.push(await time(`unknown.${round}.${i}@example.org`));
          known.push(await time(who.email));
        }
      }
      const a = median(known);
      const b = median(unknown);
      gaps.push(Math.abs(a - b) / Math.max(a, b));
      if ((gaps.at(-1) as number) < 0.1) break;
    }
    expect(Math.min(...gaps)).toBeLessThan(0.1);
  });
});
