import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BlobStore, FileBlobStore } from "@beep/blob";
import { newId } from "@beep/ids";
import { createLogger } from "@beep/observability";
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountRepository } from "./account.repository.ts";
import { AccountService, type Caller } from "./account.service.ts";
import { PasswordHasher } from "./password-hasher.ts";
import { ProfileRepository } from "./profile.repository.ts";
import { SessionRepository } from "./session.repository.ts";
import { hashRefreshToken } from "./session-issuer.ts";
import { SessionsRepository } from "./sessions.repository.ts";
import { openUsersTestDatabase, type UsersTestDatabase } from "./testing/users-test-database.ts";
import type { UsersTables } from "./users.tables.ts";

const logger = createLogger({ service: "account-test", level: "silent" });
const PASSWORD = "correct horse battery staple";
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5dd8e7a0000000049454e44ae426082",
  "hex",
);

let testDatabase: UsersTestDatabase;
let db: Kysely<UsersTables>;
let blobDir: string;
let blobs: BlobStore;
let hasher: PasswordHasher;
let accounts: AccountRepository;
let sessions: SessionRepository;
let service: AccountService;

function makeService(now?: () => Date): AccountService {
  return new AccountService({
    db,
    accounts,
    profiles: new ProfileRepository(db),
    sessions: new SessionsRepository(db),
    liveness: { forget: () => undefined },
    hasher,
    blobs,
    logger,
    maxPictureBytes: 1024,
    ...(now && { now }),
  });
}

beforeAll(async () => {
  testDatabase = await openUsersTestDatabase({ logger, poolSize: 4 });
  db = testDatabase.db;
  blobDir = mkdtempSync(join(tmpdir(), "beep-account-blobs-"));
  blobs = await FileBlobStore.open(blobDir);
  hasher = new PasswordHasher({ memoryKib: 8192, iterations: 1, maxConcurrent: 2 });
  accounts = new AccountRepository(db);
  sessions = new SessionRepository(db);
  service = makeService();
}, 60_000);

afterAll(async () => {
  await blobs?.close();
  await testDatabase?.close();
  rmSync(blobDir, { recursive: true, force: true });
});

/** A new account with two sessions; the caller is the first one. */
async function newAccount(username = `u${newId().slice(-10)}`) {
  const id = newId();
  const { row } = await accounts.insert(db, {
    id,
    email: `${username}@example.org`,
    username,
    password_hash: await hasher.hash(PASSWORD),
    first_name: "Ada",
    last_name: "Lovelace",
    display_name: "",
    bio: "",
  });
  if (!row) throw new Error("insert failed");
  const sessionIds = [newId(), newId()];
  for (const sessionId of sessionIds) {
    await sessions.create(
      {
        id: sessionId,
        accountId: id,
        device: "test",
        ip: "127.0.0.1",
        expiresAt: new Date(Date.now() + 86_400_000),
      },
      hashRefreshToken(`token-${sessionId}`),
    );
  }
  const caller: Caller = { userId: id, sessionId: sessionIds[0] as string };
  return { id, username, caller, otherSessionId: sessionIds[1] as string };
}

async function outboxOf(type: string) {
  const { rows } = await sql<{ type: string; payload: Record<string, unknown> }>`
    select type, payload from users.outbox where type = ${type}`.execute(db);
  return rows.map((row) => row.payload);
}

async function rejection(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e as { code: string; details: { field?: string } },
  );
  if (!error) throw new Error("expected a rejection");
  return { code: error.code, field: error.details.field };
}

describe("AccountService against PostgreSQL", () => {
  it("changes the username, refusing one held by another account in any case", async () => {
    const alice = await newAccount();
    const bob = await newAccount();
    expect(await rejection(service.changeUsername(bob.caller, alice.username.toUpperCase()))).toEqual({
      code: "CONFLICT",
      field: "username",
    });
    expect(await rejection(service.changeUsername(bob.caller, "a..b"))).toEqual({
      code: "BAD_USER_INPUT",
      field: "username",
    });
    const renamed = `bob_${newId().slice(-8)}`;
    const view = await service.changeUsername(bob.caller, renamed);
    expect(view.user.username).toBe(renamed);
    expect((await accounts.findById(bob.id))?.username_normalized).toBe(renamed.toLowerCase());
    const events = await outboxOf("user.updated");
    expect(events.some((e) => (e.user as { username: string }).username === renamed)).toBe(true);
  });

  it("changes the password only with the current one and revokes every other session", async () => {
    const user = await newAccount();
    expect(
      await rejection(
        service.changePassword(user.caller, {
          currentPassword: "wrong one!",
          newPassword: "n3w pass phrase",
        }),
      ),
    ).toEqual({ code: "UNAUTHENTICATED", field: "currentPassword" });
    expect(
      await rejection(
        service.changePassword(user.caller, { currentPassword: PASSWORD, newPassword: "password" }),
      ),
    ).toEqual({ code: "BAD_USER_INPUT", field: "newPassword" });
    // Nothing changed so far.
    expect(await hasher.verify((await accounts.findById(user.id))?.password_hash ?? "", PASSWORD)).toBe(true);

    const result = await service.changePassword(user.caller, {
      currentPassword: PASSWORD,
      newPassword: "a brand new pass phrase",
    });
    expect(result.revokedSessions).toBe(1);
    const hash = (await accounts.findById(user.id))?.password_hash ?? "";
    expect(await hasher.verify(hash, PASSWORD)).toBe(false);
    expect(await hasher.verify(hash, "a brand new pass phrase")).toBe(true);
    const rows = await db.selectFrom("sessions").selectAll().where("account_id", "=", user.id).execute();
    const byId = new Map(rows.map((row) => [String(row.id), row]));
    expect(byId.get(user.caller.sessionId)?.revoked_at).toBeNull();
    expect(byId.get(user.otherSessionId)?.revoked_reason).toBe("password_changed");
    expect(await outboxOf("session.revoked")).toContainEqual({
      userId: user.id,
      sessionId: user.otherSessionId,
      reason: "password_changed",
    });
  });

  it("sets, validates, expires and clears the custom status", async () => {
    const user = await newAccount();
    expect(
      await rejection(service.setCustomStatus(user.caller, { text: "x".repeat(129), emoji: "" })),
    ).toEqual({
      code: "BAD_USER_INPUT",
      field: "text",
    });
    expect(
      await rejection(service.setCustomStatus(user.caller, { text: "hi", emoji: "e".repeat(33) })),
    ).toEqual({
      code: "BAD_USER_INPUT",
      field: "emoji",
    });
    expect(
      await rejection(
        service.setCustomStatus(user.caller, { text: "hi", emoji: "", expiresAt: "2001-01-01T00:00:00Z" }),
      ),
    ).toEqual({ code: "BAD_USER_INPUT", field: "expiresAt" });

    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    const set = await service.setCustomStatus(user.caller, { text: "In a meeting", emoji: "📅", expiresAt });
    expect(set.extras.customStatus).toEqual({ text: "In a meeting", emoji: "📅", expiresAt });
    expect((await service.profileExtras(user.id)).customStatus?.text).toBe("In a meeting");
    // Two minutes later the status has expired and is no longer shown.
    const later = makeService(() => new Date(Date.now() + 120_000));
    expect((await later.profileExtras(user.id)).customStatus).toBeUndefined();

    await service.clearCustomStatus(user.caller);
    expect((await service.profileExtras(user.id)).customStatus).toBeUndefined();
  });

  it("stores a picture whose bytes match its type, replaces it and deletes the old blob", async () => {
    const user = await newAccount();
    expect(
      await rejection(
        service.uploadPicture(user.caller, {
          kind: "picture",
          data: Buffer.from("hello"),
          contentType: "image/png",
        }),
      ),
    ).toEqual({ code: "BAD_USER_INPUT", field: "data" });
    expect(
      await rejection(
        service.uploadPicture(user.caller, { kind: "picture", data: PNG, contentType: "image/svg+xml" }),
      ),
    ).toEqual({ code: "BAD_USER_INPUT", field: "contentType" });
    expect(
      await rejection(
        service.uploadPicture(user.caller, {
          kind: "banner",
          data: Buffer.concat([PNG, Buffer.alloc(1024)]),
          contentType: "image/png",
        }),
      ),
    ).toEqual({ code: "LIMIT_EXCEEDED", field: "data" });

    const first = await service.uploadPicture(user.caller, {
      kind: "picture",
      data: PNG,
      contentType: "image/png",
    });
    const second = await service.uploadPicture(user.caller, {
      kind: "picture",
      data: PNG,
      contentType: "image/png",
    });
    expect(second.extras.pictureVersion).not.toBe(first.extras.pictureVersion);
    expect(await blobs.list(`users/${user.id}/`)).toEqual([
      `users/${user.id}/picture/${second.extras.pictureVersion}`,
    ]);
    const picture = await service.getPicture({ userId: user.id, kind: "picture" });
    expect(picture.contentType).toBe("image/png");
    expect(Buffer.compare(picture.data, PNG)).toBe(0);

    await service.removePicture(user.caller, { kind: "picture" });
    expect(await blobs.list(`users/${user.id}/`)).toEqual([]);
    expect(await rejection(service.getPicture({ userId: user.id, kind: "picture" }))).toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("deletes the account only with the right password, with everything that hangs on it", async () => {
    const user = await newAccount();
    await service.uploadPicture(user.caller, { kind: "banner", data: PNG, contentType: "image/png" });
    expect(await rejection(service.deleteAccount(user.caller, { password: "not it at all" }))).toEqual({
      code: "UNAUTHENTICATED",
      field: "password",
    });
    expect(await accounts.findById(user.id)).toBeDefined();

    expect(await service.deleteAccount(user.caller, { password: PASSWORD })).toEqual({
      deletedUserId: user.id,
    });
    expect(await accounts.findById(user.id)).toBeUndefined();
    expect(await db.selectFrom("sessions").select("id").where("account_id", "=", user.id).execute()).toEqual(
      [],
    );
    expect(await blobs.list(`users/${user.id}/`)).toEqual([]);
    expect(await outboxOf("user.deleted")).toContainEqual({ userId: user.id });
    expect(await rejection(service.exportAccount(user.caller))).toMatchObject({ code: "UNAUTHENTICATED" });
  });

  it("exports the profile and sessions without any secret", async () => {
    const user = await newAccount();
    await service.setCustomStatus(user.caller, { text: "exporting", emoji: "" });
    const { json } = await service.exportAccount(user.caller);
    const document = JSON.parse(json);
    expect(document.profile).toMatchObject({
      id: user.id,
      username: user.username,
      customStatus: { text: "exporting" },
    });
    expect(document.sessions).toHaveLength(2);
    expect(document.sessions.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    const keys: string[] = [];
    const walk = (value: unknown) => {
      if (value && typeof value === "object") {
        for (const [key, inner] of Object.entries(value)) {
          keys.push(key);
          walk(inner);
        }
      }
    };
    walk(document);
    expect(keys.filter((key) => /password|hash|token|secret|subject/i.test(key))).toEqual([]);
    expect(json).not.toContain("$argon2");
    expect(await outboxOf("user.export_requested")).toContainEqual({ userId: user.id });
  });
});
