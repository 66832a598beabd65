import { newId } from "@beep/ids";
import { createLogger } from "@beep/observability";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountRepository } from "./account.repository.ts";
import { CodeBook } from "./code-book.ts";
import { OneTimeCodeRepository } from "./one-time-code.repository.ts";
import { openUsersTestDatabase, type UsersTestDatabase } from "./testing/users-test-database.ts";
import type { UsersTables } from "./users.tables.ts";

const logger = createLogger({ service: "users-test", level: "silent" });
let testDb: UsersTestDatabase;
let db: Kysely<UsersTables>;
let book: CodeBook;

beforeAll(async () => {
  testDb = await openUsersTestDatabase({ logger });
  db = testDb.db;
  book = new CodeBook(new OneTimeCodeRepository(db), { ttlMinutes: 10, maxAttempts: 5, maxPerHour: 5 });
}, 60_000);

afterAll(async () => {
  await testDb?.close();
});

async function newAccount(): Promise<string> {
  const id = newId();
  const tag = id.slice(-8);
  await new AccountRepository(db).insert(db, {
    id,
    email: `c${tag}@example.org`,
    username: `c_${tag}`,
    password_hash: "x",
    first_name: "C",
    last_name: "D",
    display_name: "",
    bio: "",
  });
  return id;
}

describe("CodeBook on PostgreSQL", () => {
  it("stores only a hash and issues 6 digits that work once", async () => {
    const account = await newAccount();
    const issued = await book.issue(account, "sign_in", "a@example.org");
    expect(issued?.code).toMatch(/^\d{6}$/);
    const row = await db
      .selectFrom("one_time_codes")
      .selectAll()
      .where("account_id", "=", account)
      .executeTakeFirstOrThrow();
    expect(row.code_hash).not.toContain(issued?.code);
    expect(row.expires_at.getTime() - Date.now()).toBeGreaterThan(9 * 60_000);
    expect(row.expires_at.getTime() - Date.now()).toBeLessThanOrEqual(10 * 60_000);
    expect((await book.redeem(account, "sign_in", issued?.code ?? "")).ok).toBe(true);
    expect((await book.redeem(account, "sign_in", issued?.code ?? "")).ok).toBe(false);
  });

  it("refuses an expired code", async () => {
    const account = await newAccount();
    const issued = await book.issue(account, "sign_in", "a@example.org");
    await db
      .updateTable("one_time_codes")
      .set({ expires_at: new Date(Date.now() - 1_000) })
      .where("account_id", "=", account)
      .execute();
    expect((await book.redeem(account, "sign_in", issued?.code ?? "")).ok).toBe(false);
  });

  it("lets only the newest code work, and a link only for its own purpose", async () => {
    const account = await newAccount();
    const first = await book.issue(account, "sign_in", "a@example.org");
    const second = await book.issue(account, "sign_in", "a@example.org");
    const verify = await book.issue(account, "verify_email", "a@example.org", true);
    if (first?.code !== second?.code)
      expect((await book.redeem(account, "sign_in", first?.code ?? "")).ok).toBe(false);
    expect((await book.redeem(account, "sign_in", second?.code ?? "")).ok).toBe(true);
    expect(verify?.linkToken).toMatch(/^[\w-]{43}$/);
    expect((await book.redeemLink(verify?.linkToken ?? "", "sign_in")).ok).toBe(false);
    expect((await book.redeemLink(verify?.linkToken ?? "", "verify_email")).ok).toBe(true);
  });

  it("accepts exactly one of two simultaneous right guesses", async () => {
    const account = await newAccount();
    const issued = await book.issue(account, "sign_in", "a@example.org");
    const results = await Promise.all([
      book.redeem(account, "sign_in", issued?.code ?? ""),
      book.redeem(account, "sign_in", issued?.code ?? ""),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it("sends at most maxPerHour codes per account and purpose", async () => {
    const account = await newAccount();
    for (let n = 0; n < 5; n++) expect(await book.issue(account, "sign_in", "a@example.org")).toBeDefined();
    expect(await book.issue(account, "sign_in", "a@example.org")).toBeUndefined();
    expect(await book.issue(account, "verify_email", "a@example.org")).toBeDefined();
  });
});
