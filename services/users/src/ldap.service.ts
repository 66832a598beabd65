import { writeOutbox } from "@beep/bus";
import { BeepError } from "@beep/errors";
import { newId } from "@beep/ids";
import { audit, type Logger } from "@beep/observability";
import type { Kysely } from "kysely";
import type { AccountRepository, AccountRow } from "./account.repository.ts";
import type { LdapRepository } from "./ldap.repository.ts";
import { type LdapDirectory, type LdapPerson, LdapUnavailableError } from "./ldap-directory.ts";
import { baseUsername, cleanEmail, cleanName, usernameCandidates } from "./ldap-profile.ts";
import type { SessionIssuer } from "./session-issuer.ts";
import { type SessionTokensView, toUserView } from "./user-view.ts";
import { USERS_SCHEMA } from "./users.schema-name.ts";
import type { UsersTables } from "./users.tables.ts";

/**
 * Stored as the password hash of accounts created by LDAP sign-in: not a PHC
 * string, so password verification always fails and only the directory can
 * sign the person in.
 */
export const NO_PASSWORD_HASH = "!ldap";

/** What LdapService needs; `directory` is undefined when `auth.ldap.url` is empty. */
export interface LdapServiceDeps {
  db: Kysely<UsersTables>;
  directory: LdapDirectory | undefined;
  links: LdapRepository;
  accounts: AccountRepository;
  sessionIssuer: SessionIssuer;
  logger: Logger;
}

const INVALID_CREDENTIALS = "Invalid username or password";
const MAX_USERNAME_CHARS = 256;
const MAX_PASSWORD_CHARS = 1024;

type Outcome = { account: AccountRow; created: boolean };

/**
 * LDAP sign-in (AUTH-6): the directory proves the password; the first
 * success creates and links a Beep account, later ones land on it and keep
 * its names in sync with the directory. The email is taken at creation only
 * (changing it would need re-verification). An entry whose email belongs to
 * an existing local account is refused with CONFLICT rather than taking that
 * account over; linking the two is left to a signed-in linking flow.
 */
export class LdapService {
  constructor(private readonly deps: LdapServiceDeps) {}

  /** Binds as the user and issues a session. */
  async signInWithLdap(input: {
    username: string;
    password: string;
    device: string;
    ip: string;
  }): Promise<SessionTokensView> {
    const { directory } = this.deps;
    if (!directory) throw new BeepError("FORBIDDEN", "LDAP sign-in is not enabled");
    const username = input.username.trim();
    // Why before any bind: an empty password makes a simple bind "unauthenticated", which some servers accept.
    if (
      input.password.trim() === "" ||
      [...input.password].length > MAX_PASSWORD_CHARS ||
      username === "" ||
      [...username].length > MAX_USERNAME_CHARS
    ) {
      return this.refuse(input.ip, "invalid_credentials");
    }
    let person: LdapPerson | undefined;
    try {
      person = await directory.authenticate(username, input.password);
    } catch (error) {
      if (!(error instanceof LdapUnavailableError)) throw error;
      this.deps.logger.error({ err: error }, "LDAP directory unavailable");
      throw new BeepError("UNAVAILABLE", "The directory is unavailable, try again later");
    }
    if (!person) return this.refuse(input.ip, "invalid_credentials");

    const outcome = await this.landOn(person).catch((error: unknown) => {
      // A concurrent first sign-in of the same person (or a username race) won: try once more.
      if ((error as { code?: string }).code === "23505") return this.landOn(person);
      throw error;
    });
    if (outcome instanceof BeepError) {
      audit(this.deps.logger, {
        action: "LDAP_SIGN_IN_FAILED",
        outcome: "failure",
        ip: input.ip,
        details: { reason: outcome.code === "CONFLICT" ? "email_taken" : "no_email" },
      });
      throw outcome;
    }
    const accountId = String(outcome.account.id);
    if (outcome.created) {
      audit(this.deps.logger, {
        action: "LDAP_ACCOUNT_CREATED",
        actor: accountId,
        target: accountId,
        outcome: "success",
        ip: input.ip,
      });
    }
    audit(this.deps.logger, { action: "LDAP_SIGN_IN", actor: accountId, outcome: "success", ip: input.ip });
    return this.deps.sessionIssuer.issue(outcome.account, input);
  }

  private refuse(ip: string, reason: string): never {
    audit(this.deps.logger, { action: "LDAP_SIGN_IN_FAILED", outcome: "failure", ip, details: { reason } });
    throw new BeepError("UNAUTHENTICATED", INVALID_CREDENTIALS);
  }

  /** The linked account (names synced), or a new linked one; a BeepError when none may be created. */
  private landOn(person: LdapPerson): Promise<Outcome | BeepError> {
    const { links, accounts } = this.deps;
    return this.deps.db.transaction().execute(async (trx) => {
      const firstName = cleanName(person.firstName);
      const lastName = cleanName(person.lastName);
      const linked = await links.findLinkedAccount(trx, person.subject);
      if (linked) {
        await links.touchLink(trx, person.subject);
        const changes = {
          ...(firstName !== "" && firstName !== linked.first_name && { firstName }),
          ...(lastName !== "" && lastName !== linked.last_name && { lastName }),
        };
        if (Object.keys(changes).length === 0) return { account: linked, created: false };
        const updated = (await accounts.updateProfile(trx, String(linked.id), changes)) ?? linked;
        await writeOutbox(trx, USERS_SCHEMA, [
          { type: "user.updated", payload: { user: toUserView(updated) } },
        ]);
        return { account: updated, created: false };
      }

      const email = cleanEmail(person.email);
      if (!email) return new BeepError("FORBIDDEN", "Your directory entry has no usable email address");
      if (await links.emailTaken(trx, email)) {
        return new BeepError("CONFLICT", "An account with this email already exists; sign in to it instead", {
          field: "email",
        });
      }
      const base = baseUsername(person.username ?? person.dn);
      const candidates = usernameCandidates(base);
      const taken = await links.takenUsernames(trx, candidates);
      const username = candidates.find((candidate) => !taken.has(candidate.toLowerCase()));
      if (!username)
        throw new BeepError("CONFLICT", "No free username could be derived", { field: "username" });
      const inserted = await accounts.insert(trx, {
        id: newId(),
        email,
        username,
        password_hash: NO_PASSWORD_HASH,
        first_name: firstName || username,
        last_name: lastName,
        display_name: "",
        bio: "",
      });
      // insert() swallowed a unique violation, but PostgreSQL has aborted the transaction: retry from the top.
      if (!inserted.row) throw Object.assign(new Error("account insert raced"), { code: "23505" });
      await links.insertLink(trx, person.subject, String(inserted.row.id));
      await writeOutbox(trx, USERS_SCHEMA, [
        { type: "user.created", payload: { user: toUserView(inserted.row) } },
      ]);
      return { account: inserted.row, created: true };
    });
  }
}
