import { randomBytes } from "node:crypto";
import { createAccessTokenVerifier } from "@beep/auth";
import type { BeepError } from "@beep/errors";
import { newId } from "@beep/ids";
import { openRateLimitStore, type RateLimitStore } from "@beep/limits";
import { createLogger } from "@beep/observability";
import { decodeProtectedHeader } from "jose";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountRepository } from "./account.repository.ts";
import { PasswordHasher } from "./password-hasher.ts";
import { SessionRepository } from "./session.repository.ts";
import { SessionIssuer } from "./session-issuer.ts";
import { SignInThrottle } from "./sign-in-throttle.ts";
import { SigningKeyRepository } from "./signing-key.repository.ts";
import { SigningKeyRotation } from "./signing-key-rotation.ts";
import { openUsersTestDatabase, type UsersTestDatabase } from "./testing/users-test-database.ts";
import { TokenIssuer } from "./token-issuer.ts";
import { UsersService } from "./users.service.ts";
import type { UsersTables } from "./users.tables.ts";

const logger = createLogger({ service: "hardening-test", level: "silent" });
const AUTH = { issuer: "beep", audience: "beep-api", accessTokenTtlSeconds: 900 };
const ROTATION = {
  ...AUTH,
  signingKeyRotationDays: 30,
  signingKeyReloadSeconds: 60,
  signingKeyRetireMarginSeconds: 300,
};
const DAY = 86_400_000;

let testDatabase: UsersTestDatabase;
let db: Kysely<UsersTables>;
let store: RateLimitStore;

beforeAll(async () => {
  testDatabase = await openUsersTestDatabase({ logger, poolSize: 6 });
  db = testDatabase.db;
  store = await openRateLimitStore("memory://");
}, 60_000);

afterAll(async () => {
  await store?.close();
  await testDatabase?.close();
});

const kidOf = (token: string) => decodeProtectedHeader(token).kid;

describe("signing key rotation (AUTH-2)", () => {
  it("rotates on schedule across processes, keeps old tokens valid, then retires the old key", async () => {
    let now = new Date();
    const clock = () => now;
    // Two users processes over one database.
    const one = new TokenIssuer(new SigningKeyRepository(db), AUTH);
    const two = new TokenIssuer(new SigningKeyRepository(db), AUTH);
    await Promise.all([one.load(), two.load()]);
    const rotations = [one, two].map(
      (tokens) => new SigningKeyRotation(new SigningKeyRepository(db), tokens, ROTATION, logger, clock),
    );
    const gateway = createAccessTokenVerifier({
      ...AUTH,
      fetchJwks: async () => one.publicJwks(),
      maxAgeMs: 0,
    });
    const old = (await one.signAccessToken("u1", "s1")).token;
    const firstKid = kidOf(old);
    expect(kidOf((await two.signAccessToken("u1", "s1")).token)).toBe(firstKid);

    // Not yet due: nothing changes.
    await Promise.all(rotations.map((rotation) => rotation.tick()));
    expect(one.publicJwks().keys).toHaveLength(1);

    // Due: both processes tick at once; exactly one new key, and both sign with it.
    now = new Date(Date.now() + 31 * DAY);
    await Promise.all(rotations.map((rotation) => rotation.tick()));
    expect(one.publicJwks().keys).toHaveLength(2);
    const fresh = (await two.signAccessToken("u1", "s1")).token;
    expect(kidOf(fresh)).not.toBe(firstKid);
    expect(kidOf((await one.signAccessToken("u1", "s1")).token)).toBe(kidOf(fresh));
    await expect(gateway.verify(old)).resolves.toMatchObject({ userId: "u1" });
    await expect(gateway.verify(fresh)).resolves.toMatchObject({ userId: "u1" });

    // Just before TTL + reload + margin after the rotation, the old key is still published.
    now = new Date(now.getTime() + (900 + 60 + 300 - 30) * 1000);
    await rotations[0]?.tick();
    expect(one.publicJwks().keys.map((key) => key.kid)).toContain(firstKid);

    // After it, the old key leaves the JWKS and its tokens are refused.
    now = new Date(now.getTime() + 60_000);
    await rotations[0]?.tick();
    expect(one.publicJwks().keys.map((key) => key.kid)).toEqual([kidOf(fresh)]);
    await expect(gateway.verify(old)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    await expect(gateway.verify(fresh)).resolves.toMatchObject({ userId: "u1" });
  });

  it("forces a rotation on demand (beep keys rotate)", async () => {
    const tokens = new TokenIssuer(new SigningKeyRepository(db), AUTH);
    await tokens.load();
    const before = tokens.currentKid();
    await new SigningKeyRotation(new SigningKeyRepository(db), tokens, ROTATION, logger).forceRotate();
    expect(tokens.currentKid()).not.toBe(before);
    expect(tokens.publicJwks().keys.map((key) => key.kid)).toContain(before);
  });
});

describe("timing of a password sign-in to an account without a password (SSO/LDAP only)", () => {
  it("takes the same time as a wrong password (median of 20, within 10%)", async () => {
    const hasher = new PasswordHasher({ memoryKib: 19_456, iterations: 2, maxConcurrent: 4 });
    const tokens = new TokenIssuer(new SigningKeyRepository(db), AUTH);
    await tokens.load();
    const sessions = new SessionRepository(db);
    const accounts = new AccountRepository(db);
    const service = new UsersService({
      db,
      accounts,
      sessions,
      hasher,
      tokens,
      sessionIssuer: new SessionIssuer(sessions, tokens, 30),
      signInThrottle: new SignInThrottle(store, {
        signInLimitAccountAttempts: 1_000,
        signInLimitAccountWindowSeconds: 900,
        signInLimitIpAttempts: 100_000,
        signInLimitIpWindowSeconds: 900,
        signInLimitDelayAfterFailures: 0,
        signInLimitDelayBaseMs: 1_000,
        signInLimitDelayMaxMs: 60_000,
      }),
      logger,
    });
    const tag = randomBytes(5).toString("hex");
    const local = `local.${tag}@example.org`;
    await service.signUp({
      email: local,
      username: `local_${tag}`,
      password: `a long password ${tag}`,
      firstName: "Ada",
      lastName: "Lovelace",
    });
    const ssoOnly = `sso.${tag}@example.org`;
    await db.transaction().execute((trx) =>
      accounts.insert(trx, {
        id: newId(),
        email: ssoOnly,
        username: `sso_${tag}`,
        password_hash: "!oidc",
        first_name: "Grace",
        last_name: "Hopper",
        display_name: "",
        bio: "",
      }),
    );
    const time = async (email: string) => {
      const started = performance.now();
      const error = await service
        .signIn({ email, password: "not the password", device: "vitest", ip: "192.0.2.10" })
        .catch((e: unknown) => e);
      expect((error as BeepError).code).toBe("UNAUTHENTICATED");
      return performance.now() - started;
    };
    await time(local);
    await time(ssoOnly);
    const median = (values: number[]) =>
      values.sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    const gaps: number[] = [];
    for (let round = 0; round < 3; round++) {
      const withPassword: number[] = [];
      const withoutPassword: number[] = [];
      for (let i = 0; i < 20; i++) {
        if (i % 2 === 0) {
          withPassword.push(await time(local));
          withoutPassword.push(await time(ssoOnly));
        } else {
          withoutPassword.push(await time(ssoOnly));
          withPassword.push(await time(local));
        }
      }
      const a = median(withPassword);
      const b = median(withoutPassword);
      gaps.push(Math.abs(a - b) / Math.max(a, b));
      if ((gaps.at(-1) as number) < 0.1) break;
    }
    expect(Math.min(...gaps)).toBeLessThan(0.1);
  });
});
