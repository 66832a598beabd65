import { newId } from "@beep/ids";
import type { Transaction } from "kysely";
import { insertAuditLog } from "./moderation.repository.ts";
import type { ServersTables } from "./servers.tables.ts";

/** The actions the audit log records (SRV-9). */
export const AUDIT_ACTIONS = [
  "SERVER_UPDATE",
  "CHANNEL_CREATE",
  "CHANNEL_UPDATE",
  "CHANNEL_DELETE",
  "CHANNEL_OVERWRITE_SET",
  "CHANNEL_OVERWRITE_DELETE",
  "ROLE_CREATE",
  "ROLE_UPDATE",
  "ROLE_DELETE",
  "MEMBER_ROLE_ADD",
  "MEMBER_ROLE_REMOVE",
  "MEMBER_KICK",
  "MEMBER_BAN_ADD",
  "MEMBER_BAN_REMOVE",
  "MEMBER_TIMEOUT",
  "MEMBER_TIMEOUT_CLEAR",
  "INVITE_CREATE",
  "INVITE_REVOKE",
] as const;

/** One of {@link AUDIT_ACTIONS}. */
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** What an audit entry is about. */
export type AuditTargetType = "server" | "channel" | "role" | "member" | "user" | "invite";

/**
 * Writes one audit log entry in the caller's transaction, so the entry exists exactly when the change
 * does. Never put a secret in `changes`.
 */
export async function recordAudit(
  trx: Transaction<ServersTables>,
  entry: {
    serverId: string;
    actorId: string;
    action: AuditAction;
    targetType: AuditTargetType;
    targetId: string;
    reason?: string;
    changes?: Record<string, unknown>;
  },
): Promise<void> {
  await insertAuditLog(trx, {
    id: newId(),
    server_id: entry.serverId,
    actor_id: entry.actorId,
    action: entry.action,
    target_type: entry.targetType,
    target_id: entry.targetId,
    ...(entry.reason !== undefined && { reason: entry.reason }),
    ...(entry.changes !== undefined && { changes: entry.changes }),
  });
}
