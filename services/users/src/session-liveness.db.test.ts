import { newId } from "@beep/ids";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionLiveness } from "./session-liveness.ts";
import { SessionsRepository } from "./sessions.repository.ts";
import { openUsersTestDatabase, type UsersTestDatabase } from "./testing/users-test-database.ts";
import type { UsersTables } from "./users.tables.ts";

let testDatabase: UsersTestDatabase;
let db: Kysely<UsersTables>;

beforeAll(async () => {
  testDatabase = await openUsersTestDatabase({ poolSize: 4 });
  db = testDatabase.db;
}, 60_000);

afterAll(async () => {
  await testDatabase?.close();
});

async function account(): Promise<string> {
  const id = newId();
  await db
    .insertInto("accounts")
    .values({
      id,
      email: `u${id}@example.test`,
      email_normalized: `u${id}@example.test`,
      username: `u${id}`,
      username_normalized: `u${id}`,
      password_hash: "x",
      first_name: "Test",
      last_name: "User",
      display_name: "",
      bio: "",
    })
    .execute();
  return id;
}

type SessionState = "live" | "revoked" | "expired";

async function sessionsOf(accountId: string, states: readonly SessionState[]): Promise<string[]> {
  const rows = states.map((state) => ({
    id: newId(),
    account_id: accountId,
    device: "test",
    ip: "127.0.0.1",
    expires_at: new Date(Date.now() + (state === "expired" ? -60_000 : 3_600_000)),
    revoked_at: state === "revoked" ? new Date() : null,
  }));
  await db.insertInto("sessions").values(rows).execute();
  return rows.map((row) => row.id);
}

describe("SessionLiveness", () => {
  it("answers a burst of checks with a few queries, each answer its own session's", async () => {
    const owner = await account();
    const other = await account();
    const states: SessionState[] = Array.from(
      { length: 300 },
      (_, i) => (["live", "live", "revoked", "expired"] as const)[i % 4]!,
    );
    const ids = await sessionsOf(owner, states);
    const liveness = new SessionLiveness(new SessionsRepository(db));

    const checks = [
      ...ids.map((id) => liveness.isLive(id, owner)),
      // Someone else's live session, a session that never existed, and the same session twice.
      liveness.isLive(ids[0]!, other),
      liveness.isLive(newId(), owner),
      liveness.isLive(ids[1]!, owner),
    ];
    const answers = await Promise.all(checks);

    expect(answers.slice(0, ids.length)).toEqual(states.map((state) => state === "live"));
    expect(answers.slice(ids.length)).toEqual([false, false, true]);
    // 303 checks in one turn: one batch (plus at most one more for stragglers), not one query each.
    expect(liveness.stats.queries).toBeLessThanOrEqual(2);
    expect(liveness.stats.sessions).toBe(301);
  });

  it("splits a burst larger than a batch and keeps at most maxInFlight queries running", async () => {
    const owner = await account();
    const ids = await sessionsOf(owner, Array(50).fill("live"));
    const repository = new SessionsRepository(db);
    // Each query is held until the test lets it through, so "how many run at once" does not depend on timing.
    const held: Array<() => void> = [];
    let running = 0;
    let mostRunning = 0;
    const gated = Object.assign(Object.create(repository) as SessionsRepository, {
      states: async (sessionIds: readonly string[]) => {
        running += 1;
        mostRunning = Math.max(mostRunning, running);
        await new Promise<void>((release) => held.push(release));
        running -= 1;
        return repository.states(sessionIds);
      },
    });
    const liveness = new SessionLiveness(gated, 2_000, 10_000, { maxBatch: 10, maxInFlight: 2 });

    const answers = Promise.all(ids.map((id) => liveness.isLive(id, owner)));
    for (let released = 0; released < 5; released++) {
      while (held.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 20));
      held.shift()!();
    }

    expect((await answers).every(Boolean)).toBe(true);
    expect(liveness.stats.queries).toBe(5);
    expect(mostRunning).toBe(2);
  });

  it("caches a live answer and reports a revocation made in this process at once", async () => {
    const owner = await account();
    const [id] = await sessionsOf(owner, ["live"]);
    const liveness = new SessionLiveness(new SessionsRepository(db));

    expect(await liveness.isLive(id!, owner)).toBe(true);
    expect(await liveness.isLive(id!, owner)).toBe(true);
    expect(liveness.stats.queries).toBe(1);

    liveness.forget([id!]);
    expect(await liveness.isLive(id!, owner)).toBe(false);
  });

  it("fails every check of a batch whose query fails, and recovers on the next", async () => {
    const owner = await account();
    const ids = await sessionsOf(owner, ["live", "live"]);
    const repository = new SessionsRepository(db);
    let failNext = true;
    const flaky = Object.assign(Object.create(repository) as SessionsRepository, {
      states: async (sessionIds: readonly string[]) => {
        if (failNext) {
          failNext = false;
          throw new Error("connection lost");
        }
        return repository.states(sessionIds);
      },
    });
    const liveness = new SessionLiveness(flaky);

    const first = await Promise.allSettled(ids.map((id) => liveness.isLive(id, owner)));
    expect(first.map((result) => result.status)).toEqual(["rejected", "rejected"]);
    expect(await Promise.all(ids.map((id) => liveness.isLive(id, owner)))).toEqual([true, true]);
  });
});
