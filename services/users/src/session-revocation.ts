import { writeOutbox } from "@beep/bus";
import type { Transaction } from "kysely";
import type { SessionsRepository } from "./sessions.repository.ts";
import { USERS_SCHEMA } from "./users.schema-name.ts";
import type { UsersTables } from "./users.tables.ts";

/** Payload of `session.revoked`: the gateway closes that session's sockets with 4401 on every node. */
export interface SessionRevokedEvent {
  userId: string;
  sessionId: string;
  reason: string;
}

/**
 * Revokes sessions of an account and writes one `session.revoked` event per
 * session in the same transaction: the one way every feature (sign-out,
 * password change or reset, refresh-token reuse) ends sessions.
 */
export async function revokeSessions(
  trx: Transaction<UsersTables>,
  sessions: SessionsRepository,
  accountId: string,
  which: { sessionId: string } | { exceptId?: string },
  reason: string,
): Promise<string[]> {
  const ids = await sessions.revoke(trx, accountId, which, reason);
  if (ids.length > 0) {
    await writeOutbox(
      trx,
      USERS_SCHEMA,
      ids.map((sessionId) => {
        const payload: SessionRevokedEvent = { userId: accountId, sessionId, reason };
        return { type: "session.revoked", payload };
      }),
    );
  }
  return ids;
}
