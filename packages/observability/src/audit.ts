import type { Logger } from "pino";

/** One security-relevant action, as recorded by {@link audit}. */
export interface AuditEntry {
  /** What happened, SCREAMING_SNAKE_CASE: `USER_CREATED`, `LOGIN_FAILED`, `ROLE_UPDATED`… */
  action: Uppercase<string>;
  /** Id of the user who acted; omitted for anonymous or system actions. */
  actor?: string;
  /** Id of what was acted on (user, server, channel, role…). */
  target?: string;
  /** Extra facts; secrets inside are redacted by the logger like any field. */
  details?: Record<string, unknown>;
  /** Whether the action succeeded; defaults to `success`. */
  outcome?: "success" | "failure";
  /** Client address the request came from. */
  ip?: string;
}

const ACTION_PATTERN = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;

/**
 * Writes an audit line (`log_type: "audit"`, the seeds' `action`, `user`,
 * `details` plus `target`, `outcome`, `ip`) at INFO. A logger whose level is
 * above `info` drops it, so audit-emitting processes must keep `info` enabled.
 */
export function audit(logger: Logger, entry: AuditEntry): void {
  // A malformed action is a programming error, but losing the audit record would
  // be worse than a badly named one: log it and flag it instead of throwing.
  const wellFormed = ACTION_PATTERN.test(entry.action);
  logger.info(
    {
      log_type: "audit",
      action: entry.action,
      user: entry.actor ?? null,
      target: entry.target,
      outcome: entry.outcome ?? "success",
      ip: entry.ip,
      details: entry.details ?? {},
      ...(wellFormed ? {} : { action_malformed: true }),
    },
    `audit ${entry.action}`,
  );
}
