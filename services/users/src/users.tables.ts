import type { ColumnType, Generated } from "kysely";
import type { PasswordResetChallengesTable } from "./recovery.tables.ts";
import type { OidcFlowsTable, OidcLinkTokensTable } from "./sso.tables.ts";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/** `users.accounts`: one row per Beep identity. */
export interface AccountsTable {
  id: string;
  email: string;
  /** Lower-cased email; unique. */
  email_normalized: string;
  username: string;
  /** Lower-cased username; unique, so `Alice` and `alice` cannot both exist. */
  username_normalized: string;
  password_hash: string;
  first_name: string;
  last_name: string;
  display_name: string;
  bio: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** `en` or `fr` (AUTH-9): the language of mails and server messages. */
  language: ColumnType<string, string | undefined, string>;
  /** When the email was proven by a code or link; null while unverified. */
  email_verified_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** E.164 phone for SMS codes; unique; null when none. */
  phone: ColumnType<string | null, string | null | undefined, string | null>;
}

/** `users.sessions`: a signed-in device; one refresh-token family. */
export interface SessionsTable {
  id: string;
  account_id: string;
  device: string;
  ip: string;
  created_at: Timestamp;
  last_used_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  revoked_reason: ColumnType<string | null, string | null | undefined, string | null>;
}

/** `users.refresh_tokens`: SHA-256 of each refresh token ever issued; a used one marks reuse. */
export interface RefreshTokensTable {
  token_hash: string;
  session_id: string;
  created_at: Timestamp;
  used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** `users.signing_keys`: Ed25519 keys that sign access tokens; the newest active one signs. */
export interface SigningKeysTable {
  kid: string;
  private_jwk: ColumnType<Record<string, unknown>, string, string>;
  public_jwk: ColumnType<Record<string, unknown>, string, string>;
  created_at: Timestamp;
  retired_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  seq: Generated<number>;
}

/** `users.external_identities`: an OIDC or LDAP identity linked to an account. */
export interface ExternalIdentitiesTable {
  /** `oidc:<provider name>` or `ldap`. */
  provider: string;
  /** The provider's stable id for the person (OIDC `sub`, LDAP entry DN or uid). */
  subject: string;
  account_id: string;
  created_at: Timestamp;
  last_used_at: Timestamp;
}

/** `users.one_time_codes`: hashed 6-digit codes for email verification and passwordless sign-in. */
export interface OneTimeCodesTable {
  id: string;
  account_id: string;
  purpose: "verify_email" | "sign_in" | "reset_password" | "change_email";
  destination: string;
  code_hash: string;
  link_token_hash: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** `users.totp_credentials`: an account's TOTP secret; pending while `confirmed_at` is null. */
export interface TotpCredentialsTable {
  account_id: string;
  /** Base32 secret; never logged nor returned after enrolment. */
  secret: string;
  confirmed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** Last accepted TOTP time step (unix seconds / 30): no step at or before it is accepted again. */
  last_used_step: ColumnType<string | null, number | string | null | undefined, number | string | null>;
  created_at: Timestamp;
}

/** `users.totp_recovery_codes`: SHA-256 of each one-time recovery code. */
export interface TotpRecoveryCodesTable {
  account_id: string;
  code_hash: string;
  used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: Timestamp;
}

/** `users.sign_in_challenges`: SHA-256 of a pending second-factor challenge token. */
export interface SignInChallengesTable {
  token_hash: string;
  account_id: string;
  expires_at: Timestamp;
  failed_attempts: ColumnType<number, number | undefined, number>;
  used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: Timestamp;
}

/** `users.profiles`: custom status and picture/banner blob keys; one row per account, made on first change. */
export interface ProfilesTable {
  account_id: string;
  status_text: ColumnType<string, string | undefined, string>;
  status_emoji: ColumnType<string, string | undefined, string>;
  status_expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** False once cleared; text and emoji are then ignored. */
  status_set: ColumnType<boolean, boolean | undefined, boolean>;
  picture_key: ColumnType<string | null, string | null | undefined, string | null>;
  banner_key: ColumnType<string | null, string | null | undefined, string | null>;
  updated_at: Timestamp;
}

/** The users schema as Kysely sees it. */
export interface UsersTables {
  accounts: AccountsTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  signing_keys: SigningKeysTable;
  external_identities: ExternalIdentitiesTable;
  one_time_codes: OneTimeCodesTable;
  totp_credentials: TotpCredentialsTable;
  totp_recovery_codes: TotpRecoveryCodesTable;
  sign_in_challenges: SignInChallengesTable;
  oidc_flows: OidcFlowsTable;
  oidc_link_tokens: OidcLinkTokensTable;
  profiles: ProfilesTable;
  password_reset_challenges: PasswordResetChallengesTable;
}
