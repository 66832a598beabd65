import { BeepError } from "@beep/errors";
import type { Kysely } from "kysely";
import type { DiscoveredRow, DiscoveryRepository } from "./discovery.repository.ts";
import { decodeCursor, encodeCursor, pageSize } from "./page-cursor.ts";
import { type ServerView, serverView } from "./server-views.ts";
import type { Caller } from "./servers.service.ts";
import type { ServersTables } from "./servers.tables.ts";

/** What DiscoveryService needs. */
export interface DiscoveryServiceDeps {
  db: Kysely<ServersTables>;
  discovery: DiscoveryRepository;
}

/** One page of discovered servers. */
export interface DiscoveryPage {
  edges: Array<{ server: ServerView; cursor: string }>;
  hasNextPage: boolean;
  endCursor: string;
}

const MAX_QUERY_LENGTH = 200;
const MAX_WORDS = 8;
const MAX_WORD_LENGTH = 64;

/**
 * The words of a search query, lower-cased: runs of letters and digits (so no operator or quote of the
 * tsquery syntax ever reaches PostgreSQL), at most 8 of at most 64 characters.
 */
export function searchWords(query: string): string[] {
  return (query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])
    .slice(0, MAX_WORDS)
    .map((word) => word.slice(0, MAX_WORD_LENGTH));
}

/** A `to_tsquery` string: every word must match, the last one as a prefix ("prog" finds "Programming"). */
export function prefixTsquery(words: readonly string[]): string {
  return words.map((word, index) => (index === words.length - 1 ? `'${word}':*` : `'${word}'`)).join(" & ");
}

/** Discovery of public servers by full-text search (SRV-2). */
export class DiscoveryService {
  constructor(private readonly deps: DiscoveryServiceDeps) {}

  /**
   * Public servers matching `query` (name weighs more than description), best first; an empty query
   * lists the most popular, then newest. Private servers never appear, whoever asks.
   */
  async discover(
    _caller: Caller,
    input: { query: string; first: number; after: string },
  ): Promise<DiscoveryPage> {
    if (input.query.length > MAX_QUERY_LENGTH) {
      throw new BeepError("BAD_USER_INPUT", `Query must be at most ${MAX_QUERY_LENGTH} characters`, {
        field: "query",
      });
    }
    const limit = pageSize(input.first);
    const words = searchWords(input.query);
    const { db, discovery } = this.deps;
    let rows: DiscoveredRow[];
    let cursorOf: (row: DiscoveredRow) => string;
    if (words.length === 0) {
      const after = input.after
        ? decodeCursor(input.after, "popular", ["number", "string"] as const)
        : undefined;
      rows = await discovery.popular(
        db,
        after && { memberCount: after[0], id: requireId(after[1]) },
        limit + 1,
      );
      cursorOf = (row) => encodeCursor("popular", [Number(row.member_count), String(row.id)]);
    } else {
      // Why the query in the kind: a cursor of another query would skip or repeat rows silently.
      const kind = `search ${words.join(" ")}`.slice(0, 64);
      const after = input.after ? decodeCursor(input.after, kind, ["string", "string"] as const) : undefined;
      if (after && !/^\d+(\.\d+)?(e-?\d+)?$/.test(after[0])) {
        throw new BeepError("BAD_USER_INPUT", "Invalid cursor", { field: "after" });
      }
      rows = await discovery.search(
        db,
        prefixTsquery(words),
        after && { rank: after[0], id: requireId(after[1]) },
        limit + 1,
      );
      cursorOf = (row) => encodeCursor(kind, [row.rank, String(row.id)]);
    }
    const page = rows.slice(0, limit);
    const edges = page.map((row) => ({ server: serverView(row), cursor: cursorOf(row) }));
    return { edges, hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? "" };
  }
}

function requireId(value: string): string {
  if (!/^\d{1,19}$/.test(value)) throw new BeepError("BAD_USER_INPUT", "Invalid cursor", { field: "after" });
  return value;
}
