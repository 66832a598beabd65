import { createHash, randomBytes } from "node:crypto";
import { writeOutbox } from "@beep/bus";
import type { OidcProviderConfig } from "@beep/config";
import { BeepError } from "@beep/errors";
import { newId } from "@beep/ids";
import { audit, type Logger } from "@beep/observability";
import type { Kysely } from "kysely";
import * as oidc from "openid-client";
import type { AccountRepository, AccountRow } from "./account.repository.ts";
import type { PasswordHasher } from "./password-hasher.ts";
import type { SessionIssuer } from "./session-issuer.ts";
import type { SsoRepository } from "./sso.repository.ts";
import { type SessionTokensView, toUserView } from "./user-view.ts";
import { USERS_SCHEMA } from "./users.schema-name.ts";
import type { UsersTables } from "./users.tables.ts";

/** How long a started sign-in and a link token stay valid. */
const FLOW_TTL_MS = 10 * 60_000;
const LINK_TOKEN_TTL_MS = 10 * 60_000;
/** Wrong passwords a link token survives. */
const MAX_LINK_ATTEMPTS = 5;
/** Stored as the password hash of accounts created by SSO: not a PHC string, so no password ever verifies. */
export const UNUSABLE_PASSWORD_HASH = "!sso-only";

/** What SsoService needs. */
export interface SsoServiceDeps {
  db: Kysely<UsersTables>;
  repository: SsoRepository;
  accounts: AccountRepository;
  hasher: PasswordHasher;
  sessionIssuer: SessionIssuer;
  providers: readonly OidcProviderConfig[];
  /** Public base URL of the deployment (the gateway); redirect URIs hang off it. */
  publicUrl: string;
  logger: Logger;
}

/** The outcome of a completed sign-in. */
export type OidcCompletion =
  | { kind: "session"; session: SessionTokensView; redirectAfter: string }
  | { kind: "linkRequired"; linkToken: string; redirectAfter: string };

interface Client {
  device: string;
  ip: string;
}

function sha256(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

function randomToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * A same-origin path to return to, or BAD_USER_INPUT. Absolute URLs on the
 * public origin are reduced to their path; anything else (other hosts,
 * scheme-relative `//x`, backslashes, control characters) is refused, so the
 * flow can never be an open redirect.
 */
export function safeRedirectPath(value: string, publicUrl: string): string {
  if (value === "") return "/";
  const refuse = () =>
    new BeepError("BAD_USER_INPUT", "redirect must be a same-origin path", { field: "redirect" });
  if (value.length > 2048 || /[\\\p{Cc}]/u.test(value)) throw refuse();
  const base = new URL(publicUrl);
  let target: URL;
  try {
    target = new URL(value, base);
  } catch {
    throw refuse();
  }
  if (target.origin !== base.origin) throw refuse();
  if (!value.startsWith("/") && !value.startsWith(`${base.origin}/`)) throw refuse();
  if (value.startsWith("//")) throw refuse();
  return `${target.pathname}${target.search}`;
}

/** Lower-case letters, digits, `_` and `.`, 2–24 characters, from a provider's hint. */
function usernameBase(hint: string): string {
  const cleaned = hint
    .normalize("NFKD")
    .replace(/[^A-Za-z0-9_.]/g, "")
    .replace(/\.{2,}/g, ".")
    .replace(/^\.+|\.+$/g, "")
    .slice(0, 24)
    .replace(/\.+$/g, "");
  return cleaned.length >= 2 ? cleaned : `user${cleaned}`;
}

/** Why an OIDC callback was refused, for the audit line (never a token or code). */
function failureReason(error: unknown): string {
  if (error instanceof oidc.AuthorizationResponseError) return "provider_error";
  if (error instanceof oidc.ResponseBodyError) return "code_exchange_failed";
  // openid-client wraps oauth4webapi's errors: the cause chain names the failed check and claim.
  let message = "";
  for (let cause: unknown = error, depth = 0; cause instanceof Error && depth < 4; depth++) {
    const claim = (cause as { cause?: { claim?: unknown } }).cause?.claim;
    message += ` ${cause.message}${typeof claim === "string" ? ` "${claim}"` : ""}`;
    cause = cause.cause;
  }
  if (/nonce/i.test(message)) return "nonce_mismatch";
  if (/"iss"|issuer/i.test(message)) return "issuer_mismatch";
  if (/"aud"|audience/i.test(message)) return "audience_mismatch";
  if (/"exp"|expired/i.test(message)) return "id_token_expired";
  if (/signature/i.test(message)) return "bad_signature";
  return "id_token_invalid";
}

/** Single sign-on with OpenID Connect providers (AUTH-5). */
export class SsoService {
  private readonly configs = new Map<string, Promise<oidc.Configuration>>();

  constructor(private readonly deps: SsoServiceDeps) {}

  /** The configured providers. */
  listProviders(): Array<{ name: string; issuer: string }> {
    return this.deps.providers.map(({ name, issuer }) => ({ name, issuer }));
  }

  /** The redirect URI registered with every provider. */
  redirectUri(provider: string): string {
    return new URL(`/auth/oidc/${encodeURIComponent(provider)}/callback`, this.deps.publicUrl).href;
  }

  /** Starts an authorization-code + PKCE flow; the state, nonce and verifier stay in `oidc_flows`. */
  async begin(input: {
    provider: string;
    redirectAfter: string;
  }): Promise<{ authorizationUrl: string; stateCookieValue: string }> {
    const provider = this.provider(input.provider);
    const redirectAfter = safeRedirectPath(input.redirectAfter, this.deps.publicUrl);
    const config = await this.configuration(provider);
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const cookie = randomToken();
    await this.deps.repository.insertFlow({
      cookie_hash: sha256(cookie),
      provider: provider.name,
      state,
      nonce,
      code_verifier: codeVerifier,
      redirect_after: redirectAfter,
      expires_at: new Date(Date.now() + FLOW_TTL_MS),
    });
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri(provider.name),
      scope: provider.scopes.join(" "),
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: "S256",
      state,
      nonce,
    });
    return { authorizationUrl: url.href, stateCookieValue: cookie };
  }

  /** Finishes a flow: validates state, code and ID token, then signs in, creates, or asks for a link. */
  async complete(input: {
    provider: string;
    callbackUrl: string;
    stateCookieValue: string;
    device: string;
    ip: string;
  }): Promise<OidcCompletion> {
    const provider = this.provider(input.provider);
    const providerKey = `oidc:${provider.name}`;
    const fail = (reason: string): never => {
      audit(this.deps.logger, {
        action: "OIDC_SIGN_IN_FAILED",
        outcome: "failure",
        ip: input.ip,
        details: { provider: provider.name, reason },
      });
      throw new BeepError("UNAUTHENTICATED", "Single sign-on failed");
    };
    const flow = input.stateCookieValue
      ? await this.deps.repository.takeFlow(sha256(input.stateCookieValue))
      : undefined;
    if (!flow || flow.provider !== provider.name) return fail("unknown_or_expired_flow");
    let callback: URL;
    try {
      callback = new URL(input.callbackUrl, this.deps.publicUrl);
    } catch {
      return fail("bad_callback_url");
    }
    if (callback.searchParams.get("state") !== flow.state) return fail("state_mismatch");
    // The redirect URI is ours, not the caller's: only the query (code, state, iss) comes from the browser.
    const currentUrl = new URL(this.redirectUri(provider.name));
    currentUrl.search = callback.search;

    let claims: oidc.IDToken;
    let email: string | undefined;
    let emailVerified = false;
    let profile: Record<string, unknown>;
    try {
      const config = await this.configuration(provider);
      const tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: flow.code_verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims();
      if (!idClaims) return fail("no_id_token");
      claims = idClaims;
      profile = { ...idClaims };
      if (typeof idClaims.email !== "string" && tokens.access_token) {
        // Providers that follow OIDC Core §5.4 strictly put scope claims in userinfo only.
        profile = { ...(await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub)), ...idClaims };
      }
      email = typeof profile.email === "string" ? profile.email : undefined;
      emailVerified = profile.email_verified === true;
    } catch (error) {
      if (error instanceof BeepError && error.code !== "UNAVAILABLE") throw error;
      // The library's message names the failed check, never a token or claim value.
      this.deps.logger.warn(
        {
          provider: provider.name,
          error_code: (error as { code?: unknown }).code,
          reason: failureReason(error),
          error_message: error instanceof Error ? error.message : String(error),
        },
        "OpenID Connect callback refused",
      );
      return fail(error instanceof BeepError ? "provider_unreachable" : failureReason(error));
    }

    const redirectAfter = flow.redirect_after;
    const linked = await this.deps.repository.linkedAccount(providerKey, claims.sub);
    if (linked) {
      audit(this.deps.logger, {
        action: "OIDC_SIGN_IN",
        actor: String(linked.id),
        outcome: "success",
        ip: input.ip,
        details: { provider: provider.name },
      });
      return { kind: "session", session: await this.deps.sessionIssuer.issue(linked, input), redirectAfter };
    }
    if (!email || !emailVerified || email.length > 254) return fail("no_verified_email");

    const existing = await this.deps.accounts.findByEmail(email);
    if (existing) return this.linkRequired(providerKey, claims.sub, existing, redirectAfter);

    const created = await this.createAccount(providerKey, claims.sub, email, profile);
    if (created.conflict === "email") {
      const raced = await this.deps.accounts.findByEmail(email);
      if (raced) return this.linkRequired(providerKey, claims.sub, raced, redirectAfter);
    }
    if (!created.row) return fail("account_creation_failed");
    audit(this.deps.logger, {
      action: "OIDC_ACCOUNT_CREATED",
      actor: String(created.row.id),
      target: String(created.row.id),
      outcome: "success",
      ip: input.ip,
      details: { provider: provider.name },
    });
    audit(this.deps.logger, {
      action: "OIDC_SIGN_IN",
      actor: String(created.row.id),
      outcome: "success",
      ip: input.ip,
      details: { provider: provider.name },
    });
    return {
      kind: "session",
      session: await this.deps.sessionIssuer.issue(created.row, input),
      redirectAfter,
    };
  }

  /** Proves the account's password with a link token, links the identity and signs in. */
  async link(input: { linkToken: string; password: string } & Client): Promise<SessionTokensView> {
    const tokenHash = sha256(input.linkToken);
    const pending = await this.deps.db
      .transaction()
      .execute((trx) => this.deps.repository.findLinkTokenForUpdate(trx, tokenHash));
    const account = pending ? await this.deps.accounts.findById(String(pending.account_id)) : undefined;
    const password = input.password.slice(0, 1024);
    const passwordOk =
      account && password.length > 0
        ? await this.deps.hasher.verify(account.password_hash, password)
        : await this.deps.hasher.verifyNothing(password);
    if (!pending || !account || !passwordOk) {
      if (pending) await this.deps.repository.failLinkAttempt(tokenHash, MAX_LINK_ATTEMPTS);
      audit(this.deps.logger, {
        action: "OIDC_SIGN_IN_FAILED",
        actor: account ? String(account.id) : undefined,
        outcome: "failure",
        ip: input.ip,
        details: {
          provider: pending?.provider.replace(/^oidc:/, ""),
          reason: pending ? "wrong_password" : "bad_link_token",
        },
      });
      throw new BeepError("UNAUTHENTICATED", "Invalid link token or password");
    }
    const linked = await this.deps.db.transaction().execute(async (trx) => {
      const still = await this.deps.repository.findLinkTokenForUpdate(trx, tokenHash);
      if (!still) return false;
      await this.deps.repository.deleteLinkToken(trx, tokenHash);
      if (await this.deps.repository.link(trx, still.provider, still.subject, String(account.id)))
        return true;
      // Linked meanwhile (another tab): fine if to this account, refused if to another one.
      const current = await this.deps.repository.linkedAccount(still.provider, still.subject);
      return current !== undefined && String(current.id) === String(account.id);
    });
    if (!linked) throw new BeepError("UNAUTHENTICATED", "Invalid link token or password");
    audit(this.deps.logger, {
      action: "OIDC_LINKED",
      actor: String(account.id),
      target: String(account.id),
      outcome: "success",
      ip: input.ip,
      details: { provider: pending.provider.replace(/^oidc:/, "") },
    });
    audit(this.deps.logger, {
      action: "OIDC_SIGN_IN",
      actor: String(account.id),
      outcome: "success",
      ip: input.ip,
      details: { provider: pending.provider.replace(/^oidc:/, "") },
    });
    return this.deps.sessionIssuer.issue(account, input);
  }

  private async linkRequired(
    providerKey: string,
    subject: string,
    account: AccountRow,
    redirectAfter: string,
  ): Promise<OidcCompletion> {
    const linkToken = randomToken();
    await this.deps.repository.insertLinkToken({
      token_hash: sha256(linkToken),
      provider: providerKey,
      subject,
      account_id: String(account.id),
      expires_at: new Date(Date.now() + LINK_TOKEN_TTL_MS),
    });
    return { kind: "linkRequired", linkToken, redirectAfter };
  }

  private async createAccount(
    providerKey: string,
    subject: string,
    email: string,
    profile: Record<string, unknown>,
  ): Promise<{ row?: AccountRow; conflict?: "email" | "username" }> {
    const text = (key: string, max = 64) =>
      typeof profile[key] === "string"
        ? (profile[key] as string)
            .replace(/\p{Cc}/gu, "")
            .trim()
            .slice(0, max)
        : "";
    const base = usernameBase(text("preferred_username") || email.split("@")[0] || "user");
    let result: { row?: AccountRow; conflict?: "email" | "username" } = {};
    for (let attempt = 0; attempt < 6; attempt++) {
      const username = attempt === 0 ? base : `${base.slice(0, 27)}_${randomBytes(2).toString("hex")}`;
      if (await this.deps.repository.usernameTaken(username)) continue;
      result = await this.deps.db.transaction().execute(async (trx) => {
        const inserted = await this.deps.accounts.insert(trx, {
          id: newId(),
          email,
          username,
          password_hash: UNUSABLE_PASSWORD_HASH,
          first_name: text("given_name") || text("name") || username,
          last_name: text("family_name"),
          display_name: text("name"),
          bio: "",
        });
        if (inserted.row) {
          await this.deps.repository.link(trx, providerKey, subject, String(inserted.row.id));
          await writeOutbox(trx, USERS_SCHEMA, [
            { type: "user.created", payload: { user: toUserView(inserted.row) } },
          ]);
        }
        return inserted;
      });
      if (result.conflict !== "username") return result;
    }
    return result;
  }

  private provider(name: string): OidcProviderConfig {
    const provider = this.deps.providers.find((p) => p.name === name);
    if (!provider) throw new BeepError("NOT_FOUND", "Sign-in provider not found");
    return provider;
  }

  /** Discovery on first use, cached; a failure is not cached so a provider that comes back works. */
  private configuration(provider: OidcProviderConfig): Promise<oidc.Configuration> {
    let config = this.configs.get(provider.name);
    if (!config) {
      config = this.discover(provider);
      this.configs.set(provider.name, config);
      config.catch(() => this.configs.delete(provider.name));
    }
    return config;
  }

  private async discover(provider: OidcProviderConfig): Promise<oidc.Configuration> {
    const issuer = new URL(provider.issuer);
    // Why: plain http is accepted only for a provider on this machine (development, tests).
    const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(issuer.hostname);
    try {
      const config = await oidc.discovery(
        issuer,
        provider.clientId,
        undefined,
        oidc.ClientSecretBasic(provider.clientSecret),
        {
          timeout: 5,
          ...(issuer.protocol === "http:" && loopback && { execute: [oidc.allowInsecureRequests] }),
        },
      );
      // Verify ID token signatures against the provider's JWKS, not only trust the TLS channel.
      oidc.enableNonRepudiationChecks(config);
      return config;
    } catch (error) {
      this.deps.logger.warn(
        {
          provider: provider.name,
          issuer: provider.issuer,
          err: error instanceof Error ? error.message : String(error),
        },
        "OpenID Connect discovery failed",
      );
      throw new BeepError("UNAVAILABLE", `Sign-in provider ${provider.name} is unreachable`);
    }
  }
}
