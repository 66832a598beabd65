import { Client, type Entry, ResultCodeError } from "ldapts";
import { escapeDnValue, escapeFilterValue } from "./ldap-escape.ts";

/** What LDAP sign-in needs to know about a directory (the `auth.ldap` config group). */
export interface LdapDirectoryOptions {
  url: string;
  startTls: boolean;
  bindMode: "template" | "search";
  bindDnTemplate: string;
  searchBindDn: string;
  searchBindPassword: string;
  searchBase: string;
  searchFilter: string;
  emailAttribute: string;
  firstNameAttribute: string;
  lastNameAttribute: string;
  usernameAttribute: string;
  connectTimeoutMs: number;
  timeoutMs: number;
}

/** A directory entry whose owner proved their password by binding as it. */
export interface LdapPerson {
  /** Stable id of the entry: its entryUUID when the server has one, else its DN. */
  subject: string;
  dn: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  username?: string;
}

/** The directory could not answer (down, timed out, service bind refused): not the user's fault. */
export class LdapUnavailableError extends Error {
  override name = "LdapUnavailableError";
}

function firstString(entry: Entry, attribute: string): string | undefined {
  const key = Object.keys(entry).find((name) => name.toLowerCase() === attribute.toLowerCase());
  const value = key ? entry[key] : undefined;
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  const text = (typeof first === "string" ? first : first.toString("utf8")).trim();
  return text === "" ? undefined : text;
}

/**
 * Proves a username + password against an LDAP directory by binding as the
 * user (never anonymously): in `template` mode the DN comes from a template,
 * in `search` mode a service account finds the entry first.
 */
export class LdapDirectory {
  constructor(private readonly options: LdapDirectoryOptions) {}

  /**
   * The person when the bind as them succeeds; undefined for an unknown user
   * or a wrong password (indistinguishable on purpose). Throws
   * LdapUnavailableError when the directory cannot answer. The caller must
   * refuse empty passwords first: a simple bind with an empty password is an
   * unauthenticated bind that some servers accept.
   */
  async authenticate(username: string, password: string): Promise<LdapPerson | undefined> {
    if (password.trim() === "") throw new Error("refusing an LDAP bind with an empty password");
    const client = new Client({
      url: this.options.url,
      connectTimeout: this.options.connectTimeoutMs,
      timeout: this.options.timeoutMs,
    });
    try {
      if (this.options.startTls) await this.directoryCall(() => client.startTLS({}));
      return this.options.bindMode === "template"
        ? await this.bindWithTemplate(client, username, password)
        : await this.searchThenBind(client, username, password);
    } finally {
      await client.unbind().catch(() => {
        // Why ignored: the answer is already decided; a failed unbind only closes the socket late.
      });
    }
  }

  private attributes(): string[] {
    const { emailAttribute, firstNameAttribute, lastNameAttribute, usernameAttribute } = this.options;
    return [emailAttribute, firstNameAttribute, lastNameAttribute, usernameAttribute, "entryUUID"];
  }

  private async bindWithTemplate(
    client: Client,
    username: string,
    password: string,
  ): Promise<LdapPerson | undefined> {
    const dn = this.options.bindDnTemplate.replaceAll("{username}", () => escapeDnValue(username));
    if (!(await this.userBind(client, dn, password))) return undefined;
    // Bound as the user: read their own entry (directories commonly allow self read).
    const { searchEntries } = await this.directoryCall(() =>
      client.search(dn, { scope: "base", filter: "(objectClass=*)", attributes: this.attributes() }),
    );
    const entry = searchEntries[0];
    return entry ? this.toPerson(entry) : { subject: dn, dn };
  }

  private async searchThenBind(
    client: Client,
    username: string,
    password: string,
  ): Promise<LdapPerson | undefined> {
    const { searchBindDn, searchBindPassword, searchBase, searchFilter } = this.options;
    if (searchBindDn === "" || searchBindPassword === "") {
      throw new LdapUnavailableError(
        "auth.ldap.searchBindDn and searchBindPassword are required in search mode",
      );
    }
    await this.directoryCall(() => client.bind(searchBindDn, searchBindPassword));
    const filter = searchFilter.replaceAll("{username}", () => escapeFilterValue(username));
    const { searchEntries } = await this.directoryCall(() =>
      client.search(searchBase, { scope: "sub", filter, attributes: this.attributes(), sizeLimit: 2 }),
    );
    // Zero or several matches: nobody to bind as (several would make the answer ambiguous).
    if (searchEntries.length !== 1) {
      // Timing: bind as nobody, so an unknown user costs the same round trip as a wrong password.
      await this.userBind(client, `cn=beep-no-such-user,${searchBase}`, password);
      return undefined;
    }
    const entry = searchEntries[0] as Entry;
    if (!(await this.userBind(client, entry.dn, password))) return undefined;
    return this.toPerson(entry);
  }

  /** True when the bind succeeds; false when the server refuses these credentials. */
  private async userBind(client: Client, dn: string, password: string): Promise<boolean> {
    try {
      await client.bind(dn, password);
      return true;
    } catch (error) {
      // Any LDAP result code (invalidCredentials, noSuchObject, invalidDNSyntax…) is a refusal.
      if (error instanceof ResultCodeError) return false;
      throw new LdapUnavailableError(`bind to ${this.options.url}`, { cause: error });
    }
  }

  private async directoryCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new LdapUnavailableError(`LDAP call to ${this.options.url}`, { cause: error });
    }
  }

  private toPerson(entry: Entry): LdapPerson {
    const { emailAttribute, firstNameAttribute, lastNameAttribute, usernameAttribute } = this.options;
    const person: LdapPerson = { subject: firstString(entry, "entryUUID") ?? entry.dn, dn: entry.dn };
    const email = firstString(entry, emailAttribute);
    const firstName = firstString(entry, firstNameAttribute);
    const lastName = firstString(entry, lastNameAttribute);
    const username = firstString(entry, usernameAttribute);
    return {
      ...person,
      ...(email && { email }),
      ...(firstName && { firstName }),
      ...(lastName && { lastName }),
      ...(username && { username }),
    };
  }
}
