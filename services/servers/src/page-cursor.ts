import { BeepError } from "@beep/errors";

/** Page sizes of every cursor-paged list (docs/api: default 50, max 100). */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

/** `first` as a page size: 0 means the default; outside 1–100 is BAD_USER_INPUT. */
export function pageSize(first: number): number {
  if (first === 0) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new BeepError("BAD_USER_INPUT", `first must be 1 to ${MAX_PAGE_SIZE}`, { field: "first" });
  }
  return first;
}

/**
 * An opaque cursor: the sort key of the last row of a page, as base64url JSON tagged with `kind`, so a
 * cursor of one list (or one ordering) is refused by another instead of silently skipping rows.
 */
export function encodeCursor(kind: string, key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([kind, ...key])).toString("base64url");
}

/** The sort key of a cursor made by {@link encodeCursor} with `kind` and `types`; BAD_USER_INPUT otherwise. */
export function decodeCursor<T extends readonly ("string" | "number")[]>(
  cursor: string,
  kind: string,
  types: T,
): { [K in keyof T]: T[K] extends "number" ? number : string } {
  const invalid = () => new BeepError("BAD_USER_INPUT", "Invalid cursor", { field: "after" });
  if (cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed[0] !== kind || parsed.length !== types.length + 1) throw invalid();
  const key = parsed.slice(1);
  key.forEach((value, index) => {
    const type = types[index];
    if (typeof value !== type || (type === "number" && !Number.isFinite(value))) throw invalid();
    if (type === "string" && !/^[\p{L}\p{N} _:.+-]{0,64}$/u.test(value as string)) throw invalid();
  });
  return key as { [K in keyof T]: T[K] extends "number" ? number : string };
}
