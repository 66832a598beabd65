import { writeOutbox } from "@beep/bus";
import { BeepError } from "@beep/errors";
import { newId } from "@beep/ids";
import { audit, type Logger } from "@beep/observability";
import type { Kysely } from "kysely";
import type { AccountRepository, AccountRow, ProfileChanges } from "./account.repository.ts";
import type { PasswordHasher } from "./password-hasher.ts";
import type { SessionRepository } from "./session.repository.ts";
import { hashRefreshToken, newRefreshToken, type SessionIssuer } from "./session-issuer.ts";
import { type SignInThrottle, SignInThrottled } from "./sign-in-throttle.ts";
import type { TokenIssuer } from "./token-issuer.ts";
import type { TwoFactorService } from "./two-factor.service.ts";
import { requireEmail, requirePassword, requireText, requireUsername } from "./user-input.ts";
import { type SessionTokensView, toUserView, type UserView } from "./user-view.ts";
import { USERS_SCHEMA } from "./users.schema-name.ts";
import type { UsersTables } from "./users.tables.ts";

/** Payload of the `user.updated` event. */
export interface UserUpdatedEvent {
  user: UserView;
}

/** What UsersService needs. */
export interface UsersServiceDeps {
  db: Kysely<UsersTables>;
  accounts: AccountRepository;
  sessions: SessionRepository;
  hasher: PasswordHasher;
  tokens: TokenIssuer;
  sessionIssuer: SessionIssuer;
  /** Brute-force protection of signIn (AUTH-11). */
  signInThrottle: SignInThrottle;
  logger: Logger;
  /** Runs after a sign-up commits (mails the verification code); must not throw. */
  afterSignUp?: (account: AccountRow) => void;
  /** Asks for a second factor when the account has 2FA on (AUTH-3). */
  secondFactor?: Pick<TwoFactorService, "demandSecondFactor">;
}

const INVALID_CREDENTIALS = "Invalid email or password";

/** Identity rules: sign-up, sign-in, refresh rotation, profile. */
export class UsersService {
  constructor(private readonly deps: UsersServiceDeps) {}

  /** Creates an account and emits `user.created`. */
  async signUp(input: {
    email: string;
    username: string;
    password: string;
    firstName: string;
    lastName: string;
  }): Promise<UserView> {
    const email = requireEmail(input.email);
    const username = requireUsername(input.username);
    const password = requirePassword(input.password);
    const firstName = requireText("firstName", input.firstName, 64);
    const lastName = requireText("lastName", input.lastName, 64);
    const passwordHash = await this.deps.hasher.hash(password);
    const id = newId();
    const result = await this.deps.db.transaction().execute(async (trx) => {
      const inserted = await this.deps.accounts.insert(trx, {
        id,
        email,
        username,
        password_hash: passwordHash,
        first_name: firstName,
        last_name: lastName,
        display_name: "",
        bio: "",
      });
      if (inserted.row) {
        await writeOutbox(trx, USERS_SCHEMA, [
          { type: "user.created", payload: { user: toUserView(inserted.row) } },
        ]);
      }
      return inserted;
    });
    if (result.conflict) {
      throw new BeepError("CONFLICT", `${result.conflict} is already taken`, { field: result.conflict });
    }
    const user = toUserView(result.row as AccountRow);
    this.deps.afterSignUp?.(result.row as AccountRow);
    audit(this.deps.logger, { action: "USER_CREATED", actor: user.id, target: user.id, outcome: "success" });
    return user;
  }

  /**
   * Exchanges email + password for a new session. Unknown email and wrong
   * password get the same error after the same hashing work.
   */
  async signIn(input: {
    email: string;
    password: string;
    device: string;
    ip: string;
  }): Promise<SessionTokensView> {
    // AUTH-11: counted per attempt (each aliased GraphQL field is its own RPC) before any hashing,
    // keyed by the email as given, so unknown and known emails get the same answer.
    try {
      await this.deps.signInThrottle.admit(input.email, input.ip);
    } catch (error) {
      if (error instanceof SignInThrottled) {
        audit(this.deps.logger, {
          action: "SIGN_IN_RATE_LIMITED",
          outcome: "failure",
          ip: input.ip,
          details: { reason: error.reason, retryAfterMs: error.details.retryAfterMs },
        });
      }
      throw error;
    }
    const account =
      input.email.length <= 254 ? await this.deps.accounts.findByEmail(input.email.trim()) : undefined;
    // verify() spends the same work on an unknown account, an empty or over-long password.
    const passwordOk = account
      ? await this.deps.hasher.verify(account.password_hash, input.password)
      : await this.deps.hasher.verifyNothing(input.password);
    await (account && passwordOk
      ? this.deps.signInThrottle.succeeded(input.email, input.ip)
      : this.deps.signInThrottle.failed(input.email));
    if (!account || !passwordOk) {
      audit(this.deps.logger, {
        action: "SIGN_IN_FAILED",
        actor: account ? String(account.id) : undefined,
        outcome: "failure",
        ip: input.ip,
      });
      throw new BeepError("UNAUTHENTICATED", INVALID_CREDENTIALS);
    }
    // With 2FA on this throws TWO_FACTOR_REQUIRED (with a challenge) instead of making a session.
    await this.deps.secondFactor?.demandSecondFactor(account, input.ip);
    audit(this.deps.logger, {
      action: "SIGN_IN",
      actor: String(account.id),
      outcome: "success",
      ip: input.ip,
    });
    return this.deps.sessionIssuer.issue(account, input);
  }

  /**
   * Rotates a refresh token. Presenting a token that was already used means
   * it leaked: the whole session (family) is revoked.
   */
  async refreshSession(refreshToken: string): Promise<SessionTokensView> {
    const oldHash = hashRefreshToken(refreshToken);
    const newToken = newRefreshToken();
    const outcome = await this.deps.db.transaction().execute(async (trx) => {
      const found = await this.deps.sessions.findRefreshTokenForUpdate(trx, oldHash);
      if (!found) return { error: "unknown" as const };
      const { session } = found;
      if (session.revoked_at || new Date(session.expires_at) <= new Date())
        return { error: "ended" as const };
      if (found.used_at) {
        await this.deps.sessions.revoke(trx, String(session.id), "refresh_token_reuse");
        await writeOutbox(trx, USERS_SCHEMA, [
          {
            type: "session.revoked",
            payload: {
              userId: String(session.account_id),
              sessionId: String(session.id),
              reason: "refresh_token_reuse",
            },
          },
        ]);
        return { error: "reused" as const, session };
      }
      await this.deps.sessions.rotate(trx, oldHash, hashRefreshToken(newToken), String(session.id));
      const account = await this.deps.accounts.findById(String(session.account_id), trx);
      return { session, account };
    });
    if ("error" in outcome) {
      if (outcome.error === "reused") {
        audit(this.deps.logger, {
          action: "REFRESH_TOKEN_REUSE",
          actor: String(outcome.session.account_id),
          target: String(outcome.session.id),
          outcome: "failure",
        });
      }
      throw new BeepError("UNAUTHENTICATED", "Invalid refresh token");
    }
    if (!outcome.account) throw new BeepError("UNAUTHENTICATED", "Invalid refresh token");
    const access = await this.deps.tokens.signAccessToken(
      String(outcome.account.id),
      String(outcome.session.id),
    );
    return {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt.toISOString(),
      refreshToken: newToken,
      refreshTokenExpiresAt: new Date(outcome.session.expires_at).toISOString(),
      user: toUserView(outcome.account),
    };
  }

  /** The caller's own account. */
  async me(userId: string): Promise<UserView> {
    const account = await this.deps.accounts.findById(userId);
    if (!account) throw new BeepError("UNAUTHENTICATED", "Account no longer exists");
    return toUserView(account);
  }

  /** Changes the caller's profile and emits `user.updated` in the same transaction. */
  async updateProfile(userId: string, input: ProfileChanges): Promise<UserView> {
    const changes: ProfileChanges = {
      ...(input.displayName !== undefined && {
        displayName: requireText("displayName", input.displayName, 64, 0),
      }),
      ...(input.firstName !== undefined && { firstName: requireText("firstName", input.firstName, 64) }),
      ...(input.lastName !== undefined && { lastName: requireText("lastName", input.lastName, 64) }),
      ...(input.bio !== undefined && { bio: requireText("bio", input.bio, 190, 0) }),
    };
    const row = await this.deps.db.transaction().execute(async (trx) => {
      const updated = await this.deps.accounts.updateProfile(trx, userId, changes);
      if (!updated) return undefined;
      const event: UserUpdatedEvent = { user: toUserView(updated) };
      await writeOutbox(trx, USERS_SCHEMA, [{ type: "user.updated", payload: event }]);
      return updated;
    });
    if (!row) throw new BeepError("UNAUTHENTICATED", "Account no longer exists");
    return toUserView(row);
  }

  /** Public keys that verify access tokens. */
  publicJwks(): ReturnType<TokenIssuer["publicJwks"]> {
    return this.deps.tokens.publicJwks();
  }
}
