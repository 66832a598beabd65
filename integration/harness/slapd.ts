import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Attribute, Change, Client } from "ldapts";
import { freePort } from "./beep-process.ts";

const SLAPD = "/usr/sbin/slapd";
const SLAPADD = "/usr/sbin/slapadd";
const SCHEMA_DIR = "/etc/ldap/schema";
const INSTALL_LOCK = join(tmpdir(), "beep-slapd-install.lock");

/** The directory suffix of every test slapd. */
export const LDAP_BASE_DN = "dc=example,dc=org";
/** The service account search-then-bind mode binds as. */
export const LDAP_READER_DN = `cn=reader,${LDAP_BASE_DN}`;
/** Password of the service account. */
export const LDAP_READER_PASSWORD = "reader-secret-9f3a";

/** A person seeded in the test directory. */
export interface LdapPerson {
  uid: string;
  password: string;
  givenName: string;
  sn: string;
  mail: string;
}

/**
 * The seeded people. `special` has a uid holding characters that must be
 * escaped in DNs (RFC 4514) and in filters (RFC 4515): leading `#`, `,`,
 * `+`, `"`, `<`, `>`, `;`, `\`, `*`, `(`, `)`.
 */
export const LDAP_PEOPLE = {
  alice: {
    uid: "alice",
    password: "alice-pass-1",
    givenName: "Alice",
    sn: "Liddell",
    mail: "alice@uni.example",
  },
  bob: { uid: "bob", password: "bob-pass-2", givenName: "Bob", sn: "Morane", mail: "bob@uni.example" },
  carol: {
    uid: "carol",
    password: "carol-pass-3",
    givenName: "Carol",
    sn: "Danvers",
    mail: "carol@uni.example",
  },
  dave: { uid: "dave", password: "dave-pass-4", givenName: "Dave", sn: "Bowman", mail: "dave@uni.example" },
  erin: {
    uid: "erin",
    password: "erin-pass-5",
    givenName: "Erin",
    sn: "Brockovich",
    mail: "erin@uni.example",
  },
  frank: {
    uid: "frank",
    password: "frank-pass-6",
    givenName: "Frank",
    sn: "Poole",
    mail: "frank@uni.example",
  },
  admin: { uid: "admin", password: "admin-pass-7", givenName: "Ad", sn: "Min", mail: "admin@uni.example" },
  special: {
    uid: '#o\'brien, jr+x "q" <a>;b\\c*(d)',
    password: "special-pass-8",
    givenName: "Zoë",
    sn: "O'Brien",
    mail: "zoe@uni.example",
  },
} satisfies Record<string, LdapPerson>;

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  execFileSync(command, args, { stdio: "pipe", env: { ...process.env, ...env }, timeout: 600_000 });
}

/**
 * Installs Debian's slapd and ldap-utils when missing. Idempotent and fast
 * when present; under a file lock so parallel test files do not race dpkg;
 * preseeded with `slapd/no_configuration` so no prompt appears and no
 * system directory is configured (tests never use the system service).
 * `apt-get update` runs only when the install fails without it (a fresh
 * machine with no package index).
 */
export function ensureSlapdInstalled(): void {
  if (existsSync(SLAPD) && existsSync(SLAPADD)) return;
  const script = `
set -e
if [ -x ${SLAPD} ] && [ -x ${SLAPADD} ]; then exit 0; fi
echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
install() { apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends slapd ldap-utils; }
if ! install; then apt-get update -q && install; fi
`;
  try {
    run("flock", [INSTALL_LOCK, "sh", "-c", script]);
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`install slapd with apt-get: ${stderr.slice(-2000)}`, { cause: error });
  }
}

/** `{SSHA}` of a password, the salted SHA-1 scheme every slapd verifies. */
export function sshaPassword(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash("sha1").update(password, "utf8").update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString("base64")}`;
}

// Why its own escaper: the harness must not trust the code under test to build its seed data.
function dnValue(value: string): string {
  return value
    .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)
    .replace(/^[#\s]/, (c) => `\\${c}`)
    .replace(/\s$/, (c) => `\\${c}`);
}

/** DN of a seeded person. */
export function personDn(uid: string): string {
  return `uid=${dnValue(uid)},ou=people,${LDAP_BASE_DN}`;
}

function ldif(entries: Array<Record<string, string | string[]>>): string {
  // Every value base64-encoded (`attr:: …`), so special characters need no LDIF escaping.
  return entries
    .map((entry) =>
      Object.entries(entry)
        .flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => [name, v]))
        .map(([name, value]) => `${name}:: ${Buffer.from(value as string, "utf8").toString("base64")}`)
        .join("\n"),
    )
    .join("\n\n")
    .concat("\n");
}

function seed(people: LdapPerson[]): string {
  return ldif([
    {
      dn: LDAP_BASE_DN,
      objectClass: ["top", "dcObject", "organization"],
      dc: "example",
      o: "Example University",
    },
    { dn: `ou=people,${LDAP_BASE_DN}`, objectClass: ["top", "organizationalUnit"], ou: "people" },
    {
      dn: LDAP_READER_DN,
      objectClass: ["top", "simpleSecurityObject", "organizationalRole"],
      cn: "reader",
      userPassword: sshaPassword(LDAP_READER_PASSWORD),
    },
    ...people.map((person) => ({
      dn: personDn(person.uid),
      objectClass: ["top", "person", "organizationalPerson", "inetOrgPerson"],
      uid: person.uid,
      cn: `${person.givenName} ${person.sn}`,
      givenName: person.givenName,
      sn: person.sn,
      mail: person.mail,
      userPassword: sshaPassword(person.password),
    })),
  ]);
}

const ROOT_DN = `cn=admin,${LDAP_BASE_DN}`;

function slapdConf(dir: string, rootPassword: string): string {
  return `include ${SCHEMA_DIR}/core.schema
include ${SCHEMA_DIR}/cosine.schema
include ${SCHEMA_DIR}/inetorgperson.schema
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
# Why: a directory that refuses anonymous binds, like a university one.
disallow bind_anon
require authc
database mdb
maxsize 67108864
suffix "${LDAP_BASE_DN}"
rootdn "${ROOT_DN}"
rootpw ${sshaPassword(rootPassword)}
directory ${dir}/db
access to attrs=userPassword
  by anonymous auth
  by * none
access to *
  by dn.exact="${LDAP_READER_DN}" read
  by self read
  by * none
`;
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`slapd did not listen on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** A private slapd for one test run. */
export interface Slapd {
  /** `ldap://127.0.0.1:<port>`. */
  readonly url: string;
  /** `BEEP_AUTH_LDAP_*` settings pointing a users process at this directory in the given bind mode. */
  env(mode: "template" | "search"): Record<string, string>;
  /** Replaces one attribute of a seeded person, as the directory's administrator would. */
  replace(uid: string, attribute: string, value: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a private slapd: its own slapd.conf, database directory and
 * loopback port, seeded with LDAP_PEOPLE; never the system service.
 */
export async function startSlapd(): Promise<Slapd> {
  ensureSlapdInstalled();
  const dir = mkdtempSync(join(tmpdir(), "beep-slapd-"));
  mkdirSync(join(dir, "db"));
  const conf = join(dir, "slapd.conf");
  const rootPassword = randomBytes(12).toString("hex");
  writeFileSync(conf, slapdConf(dir, rootPassword));
  writeFileSync(join(dir, "seed.ldif"), seed(Object.values(LDAP_PEOPLE)));
  try {
    run(SLAPADD, ["-f", conf, "-l", join(dir, "seed.ldif")]);
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`seed slapd: ${stderr}`, { cause: error });
  }
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  // `-d 0` keeps slapd in the foreground, so it is our child and dies with the stop.
  const child: ChildProcess = spawn(SLAPD, ["-f", conf, "-h", `${url}/`, "-d", "0"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await Promise.race([
      waitForPort(port, 15_000),
      exited.then(() => {
        throw new Error(`slapd exited: ${stderr}`);
      }),
    ]);
  } catch (error) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    env(mode) {
      return {
        BEEP_AUTH_LDAP_URL: url,
        BEEP_AUTH_LDAP_BIND_MODE: mode,
        BEEP_AUTH_LDAP_BIND_DN_TEMPLATE: `uid={username},ou=people,${LDAP_BASE_DN}`,
        BEEP_AUTH_LDAP_SEARCH_BIND_DN: LDAP_READER_DN,
        BEEP_AUTH_LDAP_SEARCH_BIND_PASSWORD: LDAP_READER_PASSWORD,
        BEEP_AUTH_LDAP_SEARCH_BASE: `ou=people,${LDAP_BASE_DN}`,
        BEEP_AUTH_LDAP_SEARCH_FILTER: "(&(objectClass=inetOrgPerson)(uid={username}))",
      };
    },
    async replace(uid, attribute, value) {
      const client = new Client({ url });
      try {
        await client.bind(ROOT_DN, rootPassword);
        await client.modify(
          personDn(uid),
          new Change({
            operation: "replace",
            modification: new Attribute({ type: attribute, values: [value] }),
          }),
        );
      } finally {
        await client.unbind();
      }
    },
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
