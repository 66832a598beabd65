import type { ColumnType } from "kysely";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/** `users.password_reset_challenges`: a proven reset waiting for the second factor (AUTH-12). */
export interface PasswordResetChallengesTable {
  token_hash: string;
  account_id: string;
  /** argon2 hash of the new password; applied when the challenge is answered. */
  password_hash: string;
  expires_at: Timestamp;
  failed_attempts: ColumnType<number, number | undefined, number>;
  used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: Timestamp;
}
