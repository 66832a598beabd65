import { BeepError } from "@beep/errors";
import { audit, type Logger } from "@beep/observability";
import type { AccountRow } from "./account.repository.ts";
import type { PasswordHasher } from "./password-hasher.ts";

/**
 * Recent authentication for a sensitive change (password, email): the current
 * password must match. A miss is audited like a failed sign-in, so the same
 * alerts watch both, and answers UNAUTHENTICATED on field `currentPassword`.
 */
export async function requireCurrentPassword(
  deps: { hasher: PasswordHasher; logger: Logger },
  account: AccountRow,
  password: string,
  via: string,
): Promise<void> {
  if (await deps.hasher.verify(account.password_hash, password)) return;
  audit(deps.logger, {
    action: "SIGN_IN_FAILED",
    actor: String(account.id),
    outcome: "failure",
    details: { via },
  });
  throw new BeepError("UNAUTHENTICATED", "Current password is incorrect", { field: "currentPassword" });
}
