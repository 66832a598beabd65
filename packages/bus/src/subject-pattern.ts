// Event types and patterns use NATS subject syntax so the memory driver and
// the NATS driver agree on matching; the memory driver is tested against the
// same conformance suite, so this is the single source of truth.

const TOKEN = /^[^\s.*>]+$/;

/** Throws unless `type` is a dotted event type without wildcards (`user.updated`). */
export function assertEventType(type: string): void {
  if (typeof type !== "string" || !type.split(".").every((t) => TOKEN.test(t))) {
    throw new Error(`invalid event type ${JSON.stringify(type)}: expected dotted tokens like "user.updated"`);
  }
}

/** Throws unless `pattern` is a valid type pattern (`user.*`, `server.>`, `>`). */
export function assertPattern(pattern: string): void {
  const tokens = typeof pattern === "string" ? pattern.split(".") : [];
  const ok =
    tokens.length > 0 &&
    tokens.every((t, i) => TOKEN.test(t) || t === "*" || (t === ">" && i === tokens.length - 1));
  if (!ok) {
    throw new Error(
      `invalid event pattern ${JSON.stringify(pattern)}: expected e.g. "user.*", "server.>", ">"`,
    );
  }
}

/** Throws unless `patterns` is a non-empty list of valid patterns. */
export function assertPatterns(patterns: readonly string[]): void {
  if (patterns.length === 0) throw new Error("at least one event pattern is required");
  for (const p of patterns) assertPattern(p);
}

/** Throws unless `group` is a consumer group name: letters, digits, `_` and `-` (it becomes a NATS durable name). */
export function assertGroup(group: string): void {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(group)) {
    throw new Error(`invalid consumer group ${JSON.stringify(group)}: use letters, digits, "_" and "-"`);
  }
}

// Every event is matched against every subscription's patterns, and both sides come from a small set
// (event types and patterns are written in code): remember answers rather than split strings per event.
const MATCH_CACHE_LIMIT = 10_000;
const matchCache = new Map<string, boolean>();

/** True when `type` matches `pattern` (`*` = one token, `>` = one or more trailing tokens). */
export function matchesPattern(pattern: string, type: string): boolean {
  if (pattern === ">") return true;
  const key = `${pattern} ${type}`;
  let matches = matchCache.get(key);
  if (matches === undefined) {
    if (matchCache.size >= MATCH_CACHE_LIMIT) matchCache.clear();
    matches = matchesPatternUncached(pattern, type);
    matchCache.set(key, matches);
  }
  return matches;
}

function matchesPatternUncached(pattern: string, type: string): boolean {
  const p = pattern.split(".");
  const t = type.split(".");
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === ">") return t.length > i;
    if (i >= t.length) return false;
    if (token !== "*" && token !== t[i]) return false;
  }
  return p.length === t.length;
}

/** Delay before the `attempt`-th redelivery (1-based): 100 ms × 4^(attempt-1), capped at 30 s. */
export function redeliveryDelayMs(attempt: number): number {
  return Math.min(100 * 4 ** Math.max(0, attempt - 1), 30_000);
}
