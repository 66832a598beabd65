import { createTestDatabase, type TestDatabase } from "@beep/db";
import { importJWK, type JWK, SignJWT } from "jose";
import pg from "pg";
import { BeepChild, freePort } from "./beep-child.ts";

const SIGN_UP = `mutation ($input: SignUpInput!) { signUp(input: $input) { user { id } } }`;
const SIGN_IN = `mutation ($input: SignInInput!) { signIn(input: $input) { accessToken user { id } } }`;
const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id channels { id } } } }`;

/** A signed-in user of a bench deployment. */
export interface BenchUser {
  id: string;
  token: string;
}

/** POSTs one GraphQL operation and returns its data, throwing on errors. */
export async function gql<T>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  token?: string,
): Promise<T> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors?.length || !body.data) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/**
 * `beep --target=all` as a child process against a fresh database on the
 * machine's PostgreSQL (memory bus), with helpers that create members fast:
 * accounts, sessions and memberships are bulk-inserted into the services'
 * tables and access tokens are signed with the deployment's own key, so
 * thousands of users cost seconds; everything they do afterwards goes
 * through the real gateway.
 */
export class BenchDeployment {
  private constructor(
    readonly beep: BeepChild,
    private readonly database: TestDatabase,
    private readonly pool: pg.Pool,
  ) {}

  static async start(extraEnv: Record<string, string> = {}): Promise<BenchDeployment> {
    const database = await createTestDatabase();
    const port = await freePort();
    const beep = new BeepChild(port, ["--target=all"], {
      BEEP_ENV: "test",
      BEEP_LOG_LEVEL: "warn",
      BEEP_DATABASE_URL: database.url,
      BEEP_AUTH_ARGON2_MEMORY_KIB: "8192",
      BEEP_AUTH_ARGON2_ITERATIONS: "1",
      ...extraEnv,
    });
    try {
      await beep.start(120_000);
    } catch (error) {
      await database.drop();
      throw error;
    }
    return new BenchDeployment(beep, database, new pg.Pool({ connectionString: database.url, max: 4 }));
  }

  get url(): string {
    return this.beep.url;
  }

  /**
   * The database server's version and the settings that shape write latency, for the report's header:
   * figures from servers configured differently do not compare (e.g. new WAL segments zero-filled
   * mid-run stall the statements that need them).
   */
  async postgresSettings(): Promise<string> {
    const { rows } = await this.pool.query<{ name: string; setting: string; unit: string | null }>(
      `select name, setting, unit from pg_settings
       where name in ('server_version', 'synchronous_commit', 'min_wal_size', 'max_wal_size', 'wal_init_zero', 'autovacuum')
       order by array_position(array['server_version', 'synchronous_commit', 'min_wal_size', 'max_wal_size',
         'wal_init_zero', 'autovacuum'], name::text)`,
    );
    return rows
      .map((row) =>
        row.name === "server_version"
          ? `PostgreSQL ${row.setting}`
          : `${row.name} ${row.setting}${row.unit === "MB" ? " MB" : ""}`,
      )
      .join(", ");
  }

  /** The process id of the Beep child (for RSS readings). */
  get pid(): number {
    return this.beep.pid;
  }

  /** Signs up and signs in one user through the API. */
  async signedInUser(label: string): Promise<BenchUser> {
    const suffix = `${label}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    const input = {
      email: `${suffix}@bench.example`,
      username: `b${suffix}`.slice(0, 32),
      password: "bench-password-123456",
      firstName: "Bench",
      lastName: "User",
    };
    await gql(this.url, SIGN_UP, { input });
    const { signIn } = await gql<{ signIn: { accessToken: string; user: { id: string } } }>(
      this.url,
      SIGN_IN,
      { input: { email: input.email, password: input.password } },
    );
    return { id: signIn.user.id, token: signIn.accessToken };
  }

  /** Creates a public server owned by `owner` and returns its id and first channel. */
  async server(owner: BenchUser, name: string): Promise<{ serverId: string; channelId: string }> {
    const { createServer } = await gql<{
      createServer: { server: { id: string; channels: Array<{ id: string }> } };
    }>(this.url, CREATE_SERVER, { input: { name, public: true } }, owner.token);
    return { serverId: createServer.server.id, channelId: createServer.server.channels[0]!.id };
  }

  /**
   * `count` users created by copying `template`'s account row (password hash
   * included) with new ids, names and one live session each; their access
   * tokens are signed like the users service signs them (same key, issuer,
   * audience and claims, taken from the template's token).
   */
  async bulkUsers(template: BenchUser, count: number): Promise<BenchUser[]> {
    const { rows } = await this.pool.query<{ id: string; session_id: string }>(
      `with base as (select coalesce(max(id), 0) + 1000 as start from users.accounts),
       made as (
         insert into users.accounts
         select (jsonb_populate_record(null::users.accounts, to_jsonb(a) || jsonb_build_object(
           'id', base.start + n,
           'email', 'bulk' || (base.start + n) || '@bench.example',
           'email_normalized', 'bulk' || (base.start + n) || '@bench.example',
           'username', 'bulk' || (base.start + n),
           'username_normalized', 'bulk' || (base.start + n)))).*
         from users.accounts a, base, generate_series(1, $2::int) n where a.id = $1::bigint
         returning id)
       insert into users.sessions (id, account_id, device, ip, expires_at)
       select id + 1000000000, id, 'bench', '127.0.0.1', now() + interval '1 day' from made
       returning account_id::text as id, id::text as session_id`,
      [template.id, count],
    );
    const claims = decodeClaims(template.token);
    const key = await this.pool.query<{ kid: string; private_jwk: JWK }>(
      "select kid, private_jwk from users.signing_keys where kid = $1",
      [claims.kid],
    );
    const signingKey = await importJWK(key.rows[0]!.private_jwk, "EdDSA");
    return Promise.all(
      rows.map(async (row) => ({
        id: row.id,
        token: await new SignJWT({ sid: row.session_id })
          .setProtectedHeader({ alg: "EdDSA", kid: claims.kid, typ: claims.typ })
          .setIssuer(claims.iss)
          .setAudience(claims.aud)
          .setSubject(row.id)
          .setJti(`${row.session_id}1`)
          .setIssuedAt()
          .setExpirationTime("1h")
          .sign(signingKey),
      })),
    );
  }

  /** Makes `users` members of a server, as `joinServer` would but in one statement. */
  async bulkJoin(serverId: string, users: readonly BenchUser[]): Promise<void> {
    await this.pool.query(
      "insert into servers.members (server_id, user_id) select $1::bigint, unnest($2::bigint[]) on conflict do nothing",
      [serverId, users.map((user) => user.id)],
    );
  }

  async stop(): Promise<void> {
    await this.pool.end();
    await this.beep.stop();
    await this.database.drop();
  }
}

function decodeClaims(token: string): { kid: string; typ: string; iss: string; aud: string } {
  const [header, payload] = token
    .split(".")
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, "base64url").toString()));
  return { kid: header.kid, typ: header.typ, iss: payload.iss, aud: payload.aud };
}

/** Resident set size of a process in bytes, from /proc (Linux). */
export async function rssOf(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kib ?? 0) * 1024;
}

/**
 * CPU time (user + system) a process has used so far, in ms, from /proc (Linux). On a shared machine a
 * CPU cost per operation is steadier than a rate: it does not count time the process waited for a core.
 */
export async function cpuMsOf(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces) start after the last ')'; utime and stime
  // are fields 14 and 15 of the line, in clock ticks (100 per second on Linux).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
