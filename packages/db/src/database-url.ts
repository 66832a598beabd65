/** Accepted schemes for a PostgreSQL server URL; anything else is a start-up error. */
export const POSTGRES_URL_SCHEMES = ["postgres:", "postgresql:"] as const;

/**
 * The URL with its password replaced by `***`, safe for logs and error messages.
 * Input that does not parse as a URL is replaced entirely: it may hold a password in a shape we cannot see.
 */
export function redactDatabaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "<unparseable database url>";
  }
  if (parsed.password !== "") parsed.password = "***";
  // `?password=` is also understood by pg's connection-string parser.
  if (parsed.searchParams.has("password")) parsed.searchParams.set("password", "***");
  return parsed.toString();
}

/** Throws a readable error (password redacted) unless `url` is a postgres:// or postgresql:// URL. */
export function assertPostgresUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new Error(`open database ${redactDatabaseUrl(url)}: not a URL`, { cause });
  }
  if (!(POSTGRES_URL_SCHEMES as readonly string[]).includes(parsed.protocol)) {
    throw new Error(
      `open database ${redactDatabaseUrl(url)}: unsupported scheme "${parsed.protocol}", expected one of ${POSTGRES_URL_SCHEMES.map((s) => `${s}//`).join(", ")} (or leave the URL unset for the embedded server)`,
    );
  }
  return parsed;
}

/** The same server URL pointing at another database (used to reach `postgres` for CREATE/DROP DATABASE). */
export function withDatabaseName(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}
