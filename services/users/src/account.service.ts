import type { Readable } from "node:stream";
import type { AccessClaims } from "@beep/auth";
import type { BlobStore } from "@beep/blob";
import { writeOutbox } from "@beep/bus";
import { BeepError } from "@beep/errors";
import { newId } from "@beep/ids";
import { audit, type Logger } from "@beep/observability";
import type { Kysely, Transaction } from "kysely";
import type { AccountRepository, AccountRow } from "./account.repository.ts";
import { requireCurrentPassword } from "./current-password.ts";
import { isImageType, sniffImageType } from "./image-sniffer.ts";
import type { PasswordHasher } from "./password-hasher.ts";
import type { PictureKind, ProfileRepository, ProfileRow } from "./profile.repository.ts";
import {
  type AccountProfileView,
  type ProfileExtrasView,
  type ProfileUpdatedEvent,
  pictureVersionOf,
  toExtrasView,
} from "./profile-extras-view.ts";
import type { SessionLiveness } from "./session-liveness.ts";
import { revokeSessions } from "./session-revocation.ts";
import type { SessionsRepository } from "./sessions.repository.ts";
import { renameInputField, requirePassword, requireText, requireUsername } from "./user-input.ts";
import { toUserView } from "./user-view.ts";
import { USERS_SCHEMA } from "./users.schema-name.ts";
import type { UsersTables } from "./users.tables.ts";

/** Longest custom status text, in characters. */
export const MAX_STATUS_TEXT = 128;
/** Longest custom status emoji (a shortcode or a ZWJ sequence), in characters. */
export const MAX_STATUS_EMOJI = 32;

/** What AccountService needs. */
export interface AccountServiceDeps {
  db: Kysely<UsersTables>;
  accounts: AccountRepository;
  profiles: ProfileRepository;
  sessions: SessionsRepository;
  /** Forgets revoked sessions at once, so their tokens stop working in this process now. */
  liveness: Pick<SessionLiveness, "forget">;
  hasher: PasswordHasher;
  blobs: BlobStore;
  logger: Logger;
  /** Largest accepted picture or banner, in bytes. */
  maxPictureBytes: number;
  now?: () => Date;
}

/** The caller of an account RPC: verified token claims. */
export type Caller = Pick<AccessClaims, "userId" | "sessionId">;

const KINDS: readonly PictureKind[] = ["picture", "banner"];

function requireKind(kind: string): PictureKind {
  if (!(KINDS as readonly string[]).includes(kind)) {
    throw new BeepError("BAD_USER_INPUT", "kind must be picture or banner", { field: "kind" });
  }
  return kind as PictureKind;
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The signed-in user's own account (AUTH-8 without email, AUTH-13): username,
 * password, custom status, picture and banner, deletion and export.
 */
export class AccountService {
  private readonly now: () => Date;

  constructor(private readonly deps: AccountServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** The extras of a row (or of nobody), hiding an expired status. */
  extrasView(userId: string, row: ProfileRow | undefined): ProfileExtrasView {
    return toExtrasView(userId, row, this.now());
  }

  /** Any user's extras, for any signed-in caller; NOT_FOUND for an unknown user. */
  async profileExtras(userId: string): Promise<ProfileExtrasView> {
    if (!/^\d{1,20}$/.test(userId) || !(await this.deps.accounts.findById(userId))) {
      throw new BeepError("NOT_FOUND", "No such user");
    }
    return this.extrasView(userId, await this.deps.profiles.find(userId));
  }

  /** Changes the username (same rules and case-insensitive uniqueness as sign-up); emits `user.updated`. */
  async changeUsername(caller: Caller, input: string): Promise<AccountProfileView> {
    const username = requireUsername(input);
    const result = await this.deps.db.transaction().execute(async (trx) => {
      const before = await this.deps.accounts.findById(caller.userId, trx);
      const changed = await this.deps.profiles.changeUsername(trx, caller.userId, username);
      if (!changed.row) return { ...changed, before };
      const view = await this.emitUpdated(trx, changed.row);
      return { view, before };
    });
    if ("conflict" in result && result.conflict) {
      audit(this.deps.logger, {
        action: "USERNAME_CHANGED",
        actor: caller.userId,
        target: caller.userId,
        outcome: "failure",
        details: { reason: "taken" },
      });
      throw new BeepError("CONFLICT", "username is already taken", { field: "username" });
    }
    if (!("view" in result) || !result.view) throw gone();
    audit(this.deps.logger, {
      action: "USERNAME_CHANGED",
      actor: caller.userId,
      target: caller.userId,
      outcome: "success",
      details: { from: result.before?.username, to: username },
    });
    return result.view;
  }

  /**
   * Changes the password after checking the current one, and signs out every
   * other session of the user (`session.revoked` per session, same transaction).
   * The caller's own session stays.
   */
  async changePassword(
    caller: Caller,
    input: { currentPassword: string; newPassword: string },
  ): Promise<{ revokedSessions: number }> {
    const account = await this.requireAccount(caller);
    await requireCurrentPassword(this.deps, account, input.currentPassword, "change_password");
    const newPassword = renameInputField("newPassword", () => requirePassword(input.newPassword));
    const passwordHash = await this.deps.hasher.hash(newPassword);
    const revoked = await this.deps.db.transaction().execute(async (trx) => {
      if (!(await this.deps.profiles.setPasswordHash(trx, caller.userId, passwordHash))) return undefined;
      return revokeSessions(
        trx,
        this.deps.sessions,
        caller.userId,
        { exceptId: caller.sessionId },
        "password_changed",
      );
    });
    if (!revoked) throw gone();
    this.deps.liveness.forget(revoked);
    audit(this.deps.logger, {
      action: "PASSWORD_CHANGED",
      actor: caller.userId,
      target: caller.userId,
      outcome: "success",
      details: { revokedSessions: revoked.length },
    });
    return { revokedSessions: revoked.length };
  }

  /** Sets the custom status (text ≤ 128, emoji ≤ 32, optional future expiry); emits `user.updated`. */
  async setCustomStatus(
    caller: Caller,
    input: { text: string; emoji: string; expiresAt?: string | undefined },
  ): Promise<AccountProfileView> {
    const text = requireText("text", input.text, MAX_STATUS_TEXT, 0);
    const emoji = requireText("emoji", input.emoji, MAX_STATUS_EMOJI, 0);
    if (text === "" && emoji === "") {
      throw new BeepError("BAD_USER_INPUT", "a status needs text or an emoji", { field: "text" });
    }
    let expiresAt: Date | null = null;
    if (input.expiresAt !== undefined && input.expiresAt !== "") {
      expiresAt = new Date(input.expiresAt);
      if (Number.isNaN(expiresAt.getTime()) || expiresAt <= this.now()) {
        throw new BeepError("BAD_USER_INPUT", "expiresAt must be a future ISO-8601 time", {
          field: "expiresAt",
        });
      }
    }
    return this.changeExtras(caller, (trx) =>
      this.deps.profiles.setStatus(trx, caller.userId, { text, emoji, expiresAt }),
    );
  }

  /** Clears the custom status; emits `user.updated`. */
  clearCustomStatus(caller: Caller): Promise<AccountProfileView> {
    return this.changeExtras(caller, (trx) => this.deps.profiles.clearStatus(trx, caller.userId));
  }

  /**
   * Stores a new picture or banner after checking its type against its bytes
   * and its size; the previous blob is deleted once the change is committed.
   */
  async uploadPicture(
    caller: Caller,
    input: { kind: string; data: Uint8Array; contentType: string },
  ): Promise<AccountProfileView> {
    const kind = requireKind(input.kind);
    const contentType = input.contentType.trim().toLowerCase();
    if (!isImageType(contentType)) {
      throw new BeepError(
        "BAD_USER_INPUT",
        "contentType must be image/png, image/jpeg, image/webp or image/gif",
        {
          field: "contentType",
        },
      );
    }
    if (input.data.length > this.deps.maxPictureBytes) {
      throw new BeepError("LIMIT_EXCEEDED", `${kind} must be at most ${this.deps.maxPictureBytes} bytes`, {
        field: "data",
      });
    }
    if (sniffImageType(input.data) !== contentType) {
      throw new BeepError("BAD_USER_INPUT", `the bytes are not a ${contentType} image`, { field: "data" });
    }
    await this.requireAccount(caller);
    const key = `users/${caller.userId}/${kind}/${newId()}`;
    await this.deps.blobs.put(key, Buffer.from(input.data), contentType);
    let previous: string | null = null;
    try {
      const view = await this.changeExtras(caller, async (trx) => {
        previous = (await this.deps.profiles.find(caller.userId, trx, true))?.[`${kind}_key`] ?? null;
        return this.deps.profiles.setPictureKey(trx, caller.userId, kind, key);
      });
      await this.deleteBlobs(previous ? [previous] : []);
      return view;
    } catch (error) {
      // The row never pointed at the new blob: remove it so nothing is orphaned.
      await this.deleteBlobs([key]);
      throw error;
    }
  }

  /** Removes the picture or banner (a no-op when there is none); the blob goes after commit. */
  async removePicture(caller: Caller, input: { kind: string }): Promise<AccountProfileView> {
    const kind = requireKind(input.kind);
    let previous: string | null = null;
    const view = await this.changeExtras(caller, async (trx) => {
      previous = (await this.deps.profiles.find(caller.userId, trx, true))?.[`${kind}_key`] ?? null;
      return this.deps.profiles.setPictureKey(trx, caller.userId, kind, null);
    });
    await this.deleteBlobs(previous ? [previous] : []);
    return view;
  }

  /** Any user's picture or banner bytes; NOT_FOUND when there is none. */
  async getPicture(input: {
    userId: string;
    kind: string;
  }): Promise<{ data: Buffer; contentType: string; version: string }> {
    const kind = requireKind(input.kind);
    const row = /^\d{1,20}$/.test(input.userId) ? await this.deps.profiles.find(input.userId) : undefined;
    const key = row?.[`${kind}_key`];
    const blob = key ? await this.deps.blobs.get(key) : undefined;
    if (!key || !blob) throw new BeepError("NOT_FOUND", `No ${kind}`);
    return {
      data: await readAll(blob.body),
      contentType: blob.info.contentType,
      version: pictureVersionOf(key),
    };
  }

  /**
   * Deletes the account after re-checking the password: sessions, tokens,
   * identities and extras cascade; `user.deleted` goes out in the same
   * transaction; the blobs are removed after commit.
   */
  async deleteAccount(caller: Caller, input: { password: string }): Promise<{ deletedUserId: string }> {
    const account = await this.requireAccount(caller);
    if (!(await this.deps.hasher.verify(account.password_hash, input.password))) {
      audit(this.deps.logger, {
        action: "ACCOUNT_DELETED",
        actor: caller.userId,
        target: caller.userId,
        outcome: "failure",
        details: { reason: "wrong_password" },
      });
      throw new BeepError("UNAUTHENTICATED", "Password is incorrect", { field: "password" });
    }
    const deleted = await this.deps.db.transaction().execute(async (trx) => {
      if (!(await this.deps.profiles.deleteAccount(trx, caller.userId))) return false;
      await writeOutbox(trx, USERS_SCHEMA, [{ type: "user.deleted", payload: { userId: caller.userId } }]);
      return true;
    });
    if (!deleted) throw gone();
    audit(this.deps.logger, {
      action: "ACCOUNT_DELETED",
      actor: caller.userId,
      target: caller.userId,
      outcome: "success",
    });
    // Every blob under the user's prefix, so an upload that raced the deletion goes too.
    await this.deleteBlobs(await this.deps.blobs.list(`users/${caller.userId}/`).catch(() => []));
    return { deletedUserId: caller.userId };
  }

  /**
   * Everything `users` holds about the caller as a JSON document, without any
   * secret (no password hash, no token hashes, no external subjects); also
   * emits `user.export_requested` so other services can add their parts.
   */
  async exportAccount(caller: Caller): Promise<{ json: string }> {
    const account = await this.requireAccount(caller);
    const [extras, sessions, identities] = await Promise.all([
      this.deps.profiles.find(caller.userId),
      this.deps.profiles.sessionsOf(caller.userId),
      this.deps.profiles.externalIdentitiesOf(caller.userId),
    ]);
    const iso = (value: Date | string | null) => (value ? new Date(value).toISOString() : null);
    const document = {
      exportedAt: this.now().toISOString(),
      profile: { ...toUserView(account), ...this.extrasView(caller.userId, extras) },
      sessions: sessions.map((session) => ({
        id: String(session.id),
        device: session.device,
        ip: session.ip,
        createdAt: iso(session.created_at),
        lastUsedAt: iso(session.last_used_at),
        expiresAt: iso(session.expires_at),
        endedAt: iso(session.revoked_at),
        endedBecause: session.revoked_reason,
        current: String(session.id) === caller.sessionId,
      })),
      linkedIdentities: identities.map((identity) => ({
        provider: identity.provider,
        linkedAt: iso(identity.created_at),
        lastUsedAt: iso(identity.last_used_at),
      })),
    };
    await this.deps.db
      .transaction()
      .execute((trx) =>
        writeOutbox(trx, USERS_SCHEMA, [
          { type: "user.export_requested", payload: { userId: caller.userId } },
        ]),
      );
    audit(this.deps.logger, {
      action: "ACCOUNT_EXPORTED",
      actor: caller.userId,
      target: caller.userId,
      outcome: "success",
    });
    return { json: JSON.stringify(document, null, 2) };
  }

  /** Runs one change of the extras in a transaction and emits `user.updated` with the result. */
  private async changeExtras(
    caller: Caller,
    change: (trx: Transaction<UsersTables>) => Promise<ProfileRow>,
  ): Promise<AccountProfileView> {
    const view = await this.deps.db.transaction().execute(async (trx) => {
      const account = await this.deps.accounts.findById(caller.userId, trx);
      if (!account) return undefined;
      const row = await change(trx);
      return this.emitUpdated(trx, account, row);
    });
    if (!view) throw gone();
    return view;
  }

  /** Writes `user.updated` (user + extras) to the outbox of `trx`. */
  private async emitUpdated(
    trx: Transaction<UsersTables>,
    account: AccountRow,
    extras?: ProfileRow,
  ): Promise<AccountProfileView> {
    const userId = String(account.id);
    const view = {
      user: toUserView(account),
      extras: this.extrasView(userId, extras ?? (await this.deps.profiles.find(userId, trx))),
    };
    const event: ProfileUpdatedEvent = { user: view.user, profile: view.extras };
    await writeOutbox(trx, USERS_SCHEMA, [{ type: "user.updated", payload: event }]);
    return view;
  }

  private async requireAccount(caller: Caller): Promise<AccountRow> {
    const account = await this.deps.accounts.findById(caller.userId);
    if (!account) throw gone();
    return account;
  }

  private async deleteBlobs(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      try {
        await this.deps.blobs.delete(key);
      } catch (error) {
        // Why: the change is committed; an orphaned blob costs space, not correctness. Say so and go on.
        this.deps.logger.warn({ err: error, blob_key: key }, "could not delete an unused profile blob");
      }
    }
  }
}

function gone(): BeepError {
  return new BeepError("UNAUTHENTICATED", "Account no longer exists");
}
