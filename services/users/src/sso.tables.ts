import type { ColumnType, Generated } from "kysely";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/** `users.oidc_flows`: a started OIDC sign-in, keyed by the SHA-256 of its state cookie; single use. */
export interface OidcFlowsTable {
  cookie_hash: string;
  provider: string;
  state: string;
  nonce: string;
  code_verifier: string;
  redirect_after: string;
  expires_at: Timestamp;
  created_at: Timestamp;
}

/** `users.oidc_link_tokens`: an OIDC identity waiting for its account's password before it is linked. */
export interface OidcLinkTokensTable {
  token_hash: string;
  provider: string;
  subject: string;
  account_id: string;
  failed_attempts: Generated<number>;
  expires_at: Timestamp;
  created_at: Timestamp;
}
