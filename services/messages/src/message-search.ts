import { BeepError } from "@beep/errors";
import { isSnowflake } from "@beep/ids";
import { PERMISSIONS } from "@beep/servers/permissions";
import { type Kysely, type RawBuilder, sql } from "kysely";
import type { ChannelAccessCache, ChannelDirectory } from "./channel-access.ts";
import type { UsernameLookup } from "./mentions.ts";
import {
  MAX_TERMS,
  type ParsedSearchQuery,
  parseSearchQuery,
  SEARCH_HAS,
  type SearchHas,
  searchWords,
} from "./message-search.query.ts";
import { type MessageRecord, messageRecord } from "./message-views.ts";
import { firstIdAt, type MessageRow, type MessagesRepository } from "./messages.repository.ts";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import type { MessagesTables } from "./messages.tables.ts";

/** The batched permission lookups search needs from servers (one call per search). */
export interface SearchPermissions {
  /** The user's bits in each channel, 0n for one hidden from them, not in the server, or for a non-member. */
  channelBitsMany(
    userId: string,
    serverId: string,
    channelIds: readonly string[],
  ): Promise<Map<string, bigint>>;
  /** Whether the user is a member of the server (asked only when no channel is readable). */
  isMember(userId: string, serverId: string): Promise<boolean>;
}

export type SearchSort = "RELEVANCE" | "NEWEST";

/** A search: the query string and explicit filters, which narrow it further (MSG-12). */
export interface SearchInput {
  serverId: string;
  query?: string;
  channelId?: string;
  authorId?: string;
  has?: readonly string[];
  sentBefore?: string;
  sentAfter?: string;
  sort?: string;
  first?: number;
  after?: string;
}

/** A page of results, best (or newest) first. */
export interface SearchPage {
  messages: MessageRecord[];
  /** Matches of the whole search (all pages), counted up to {@link COUNT_CAP}. */
  totalHits: number;
  /** True when there are more than {@link COUNT_CAP} matches (totalHits is then the cap). */
  totalHitsCapped: boolean;
  /** The cursor after the last result; null for an empty page. */
  endCursor: string | null;
  hasMore: boolean;
}

export const DEFAULT_SEARCH_PAGE = 25;
export const MAX_SEARCH_PAGE = 100;
/** Counting stops here: a count is an estimate for the user, not worth scanning a million rows. */
export const COUNT_CAP = 1000;

const READ = PERMISSIONS.VIEW_CHANNEL | PERMISSIONS.READ_MESSAGE_HISTORY;
const TABLE = sql.id(MESSAGES_SCHEMA, "messages");
const ATTACHMENTS = sql.id(MESSAGES_SCHEMA, "attachments");
const FOLD = sql.id(MESSAGES_SCHEMA, "search_fold");
const COLUMNS = sql.raw(
  "m.id, m.server_id, m.channel_id, m.thread_id, m.author_id, m.content, m.nonce, m.created_at, m.edited_at, m.reply_to_id, m.pinned_at, m.pinned_by, m.mentions, m.embeds",
);

interface Cursor {
  sort: SearchSort;
  rank: string | null;
  id: string;
}

function badInput(message: string, field: string): BeepError {
  return new BeepError("BAD_USER_INPUT", message, { field });
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(
    JSON.stringify([cursor.sort === "RELEVANCE" ? "r" : "n", cursor.rank, cursor.id]),
  ).toString("base64url");
}

function decodeCursor(value: string, sort: SearchSort): Cursor {
  try {
    const [kind, rank, id] = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as unknown[];
    const cursorSort = kind === "r" ? "RELEVANCE" : kind === "n" ? "NEWEST" : undefined;
    const rankOk =
      rank === null || (typeof rank === "string" && Number.isFinite(Number(rank)) && rank.length < 40);
    if (cursorSort === sort && rankOk && typeof id === "string" && isSnowflake(id)) {
      return { sort, rank: rank as string | null, id };
    }
  } catch {
    // A garbled cursor is reported below like any other bad one.
  }
  throw badInput("Not a cursor of this search", "after");
}

function instant(value: string | undefined, field: string): Date | undefined {
  if (value === undefined || value === "") return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw badInput("Give an ISO-8601 date and time", field);
  return date;
}

const earliest = (a?: Date, b?: Date) => (a && b ? (a < b ? a : b) : (a ?? b));
const latest = (a?: Date, b?: Date) => (a && b ? (a > b ? a : b) : (a ?? b));

/**
 * Full-text search over a server's messages (MSG-12). The caller's readable channels (VIEW_CHANNEL and
 * READ_MESSAGE_HISTORY) come from ONE batched permission lookup over the server's channels that hold
 * messages; the SQL is then restricted to them, so pages are full and counts never include a hidden
 * message. A server the caller is not a member of is NOT_FOUND, as is a channel they cannot read.
 */
export class MessageSearchService {
  constructor(
    private readonly deps: {
      db: Kysely<MessagesTables>;
      repo: MessagesRepository;
      permissions: SearchPermissions;
      directory: ChannelDirectory;
      /** Messages' per-(user, channel) cache: repeated searches cost no RPC. */
      access?: ChannelAccessCache;
    },
  ) {}

  async search(
    caller: { userId: string; findUsers: UsernameLookup },
    input: SearchInput,
  ): Promise<SearchPage> {
    if (!isSnowflake(input.serverId))
      throw new BeepError("NOT_FOUND", "No such server", { field: "serverId" });
    const serverId = input.serverId;
    const parsed = parseSearchQuery(input.query ?? "");
    const sort: SearchSort =
      input.sort === undefined || input.sort === "" ? "RELEVANCE" : (input.sort as SearchSort);
    if (sort !== "RELEVANCE" && sort !== "NEWEST") throw badInput("sort is RELEVANCE or NEWEST", "sort");
    const first = input.first === undefined || input.first === 0 ? DEFAULT_SEARCH_PAGE : input.first;
    if (!Number.isInteger(first) || first < 1 || first > MAX_SEARCH_PAGE) {
      throw badInput(`A page holds 1 to ${MAX_SEARCH_PAGE} results`, "first");
    }
    const has = new Set<SearchHas>(parsed.has);
    for (const value of input.has ?? []) {
      if (!SEARCH_HAS.includes(value as SearchHas)) throw badInput("has takes FILE, LINK or EMBED", "has");
      has.add(value as SearchHas);
    }
    const before = earliest(parsed.sentBefore, instant(input.sentBefore, "sentBefore"));
    const after = latest(parsed.sentAfter, instant(input.sentAfter, "sentAfter"));
    const cursor = input.after ? decodeCursor(input.after, sort) : undefined;
    if (input.authorId && !isSnowflake(input.authorId)) throw badInput("Not a user id", "authorId");
    if (input.channelId !== undefined && input.channelId !== "" && !isSnowflake(input.channelId)) {
      throw new BeepError("NOT_FOUND", "No such channel", { field: "channelId" });
    }
    const hasTerms = parsed.words.length + parsed.phrases.length > 0;
    if (
      !hasTerms &&
      has.size === 0 &&
      !before &&
      !after &&
      !input.authorId &&
      parsed.fromUsernames.length === 0
    ) {
      throw badInput("Search for some words or give a filter", "query");
    }

    const channelId = input.channelId || undefined;
    if (channelId && this.deps.access && (await this.deps.access.locate(channelId))?.serverId !== serverId) {
      // Why located first: only channels of this server may enter the cache under it.
      throw new BeepError("NOT_FOUND", "No such channel", { field: "channelId" });
    }
    const candidates = channelId ? [channelId] : await this.channelsWithMessages(serverId);
    const lookup = (ids: readonly string[]) =>
      this.deps.permissions.channelBitsMany(caller.userId, serverId, ids);
    const bits = this.deps.access
      ? await this.deps.access.accessMany(caller.userId, serverId, candidates, lookup)
      : await lookup(candidates);
    let allowed = candidates.filter((id) => ((bits.get(id) ?? 0n) & READ) === READ);
    if (channelId && allowed.length === 0) {
      // Why NOT_FOUND for a readable-but-no-history channel too: search reveals no more than history would.
      throw new BeepError("NOT_FOUND", "No such channel", { field: "channelId" });
    }
    if (allowed.length === 0 && !(await this.deps.permissions.isMember(caller.userId, serverId))) {
      throw new BeepError("NOT_FOUND", "No such server", { field: "serverId" });
    }
    const empty: SearchPage = {
      messages: [],
      totalHits: 0,
      totalHitsCapped: false,
      endCursor: null,
      hasMore: false,
    };
    if (parsed.inChannels.length > 0 && allowed.length > 0) {
      const named = await this.deps.directory.resolveMentions({
        serverId,
        channelId: allowed[0]!,
        senderId: caller.userId,
        userIds: [],
        roleNames: [],
        roleIds: [],
        channelNames: parsed.inChannels,
        channelIds: [],
      });
      const inNamed = new Set(named.channelIds);
      allowed = allowed.filter((id) => inNamed.has(id));
    }
    let authors: string[] | undefined = input.authorId ? [input.authorId] : undefined;
    if (parsed.fromUsernames.length > 0) {
      const found = (await caller.findUsers(parsed.fromUsernames)).map((user) => user.id);
      authors = authors ? authors.filter((id) => found.includes(id)) : found;
    }
    if (allowed.length === 0 || (authors && authors.length === 0)) return empty;

    const filters: RawBuilder<unknown>[] = [
      sql`m.server_id = ${serverId}::bigint`,
      sql`m.channel_id = any(${allowed}::bigint[])`,
    ];
    const query = hasTerms ? tsQuery(parsed) : undefined;
    if (query) filters.push(sql`m.search_vector @@ q.query`);
    if (authors) filters.push(sql`m.author_id = any(${authors}::bigint[])`);
    if (has.has("LINK")) filters.push(sql`m.content ~* 'https?://'`);
    if (has.has("EMBED")) filters.push(sql`jsonb_array_length(m.embeds) > 0`);
    if (has.has("FILE")) {
      filters.push(sql`exists (select 1 from ${ATTACHMENTS} a where a.message_id = m.id)`);
    }
    if (before) filters.push(sql`m.id < ${firstIdAt(before)}::bigint and m.created_at < ${before}`);
    if (after) filters.push(sql`m.id >= ${firstIdAt(after)}::bigint and m.created_at >= ${after}`);
    const from = query ? sql`${TABLE} m, (select ${query} as query) q` : sql`${TABLE} m`;
    const rank = query && sort === "RELEVANCE" ? sql`ts_rank(m.search_vector, q.query, 1)` : undefined;

    const where = sql.join(filters, sql` and `);
    const pageFilters = [...filters];
    if (cursor) {
      pageFilters.push(
        rank && cursor.rank !== null
          ? sql`(${rank} < ${cursor.rank}::real or (${rank} = ${cursor.rank}::real and m.id < ${cursor.id}::bigint))`
          : sql`m.id < ${cursor.id}::bigint`,
      );
    }
    const order = rank ? sql`${rank} desc, m.id desc` : sql`m.id desc`;
    const [rows, count] = await Promise.all([
      sql<MessageRow & { rank: string | null }>`
        select ${COLUMNS}, ${rank ? sql`${rank}::text` : sql`null::text`} as rank
        from ${from} where ${sql.join(pageFilters, sql` and `)}
        order by ${order} limit ${first + 1}`.execute(this.deps.db),
      sql<{ n: string }>`
        select count(*) as n from (select 1 from ${from} where ${where} limit ${COUNT_CAP + 1}) hits`.execute(
        this.deps.db,
      ),
    ]);
    const page = rows.rows.slice(0, first);
    const total = Number(count.rows[0]?.n ?? 0);
    const last = page.at(-1);
    const replyIds = page.flatMap((row) => row.reply_to_id ?? []);
    const replied = new Map((await this.deps.repo.findMany(this.deps.db, replyIds)).map((r) => [r.id, r]));
    return {
      messages: page.map((row) => messageRecord(row, replied)),
      totalHits: Math.min(total, COUNT_CAP),
      totalHitsCapped: total > COUNT_CAP,
      endCursor: last ? encodeCursor({ sort, rank: last.rank, id: last.id }) : null,
      hasMore: rows.rows.length > first,
    };
  }

  /** The server's channels holding at least one message: a loose index scan, one descent per channel. */
  private async channelsWithMessages(serverId: string): Promise<string[]> {
    const result = await sql<{ channel_id: string }>`
      with recursive c as (
        (select channel_id from ${TABLE} where server_id = ${serverId}::bigint order by channel_id limit 1)
        union all
        select (select m.channel_id from ${TABLE} m
                where m.server_id = ${serverId}::bigint and m.channel_id > c.channel_id
                order by m.channel_id limit 1)
        from c where c.channel_id is not null
      )
      select channel_id from c where channel_id is not null`.execute(this.deps.db);
    return result.rows.map((row) => row.channel_id);
  }
}

/**
 * The tsquery of the words (each a prefix) and phrases (adjacent, in order), all required. Each piece is
 * folded by the same function as the indexed column; words hold only letters and digits (see
 * {@link searchWords}), so quoting them as one lexeme is safe.
 */
function tsQuery(parsed: ParsedSearchQuery): RawBuilder<unknown> {
  const parts = [
    ...parsed.words
      .slice(0, MAX_TERMS)
      .map((word) => sql`to_tsquery('simple', quote_literal(${FOLD}(${word}::text)) || ':*')`),
    // Why weight B only: the column is two vectors end to end (see migration 0004); only the second
    // holds every word at its true position, and a phrase must not span the seam between the two.
    ...parsed.phrases.map(
      (phrase) => sql`to_tsquery('simple', (
        select string_agg(quote_literal(${FOLD}(w)) || ':B', ' <-> ' order by n)
        from unnest(${searchWords(phrase)}::text[]) with ordinality as t(w, n)))`,
    ),
  ];
  return sql`(${sql.join(parts, sql` && `)})`;
}
