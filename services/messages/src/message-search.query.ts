import { BeepError } from "@beep/errors";

/** What `has:` filters on. FILE: an attachment (none until attachments land); LINK: an http(s) URL; EMBED: a link preview. */
export type SearchHas = "FILE" | "LINK" | "EMBED";
export const SEARCH_HAS: readonly SearchHas[] = ["FILE", "LINK", "EMBED"];

/** A search query string taken apart (MSG-12). */
export interface ParsedSearchQuery {
  /** Words that must all match, each as a prefix; lower case, split on anything but letters and digits. */
  words: string[];
  /** "Quoted phrases": their words must appear in this order, adjacent. */
  phrases: string[];
  /** `from:username` (without a leading @). */
  fromUsernames: string[];
  /** `in:#channel` / `in:channel` names (without #). */
  inChannels: string[];
  has: SearchHas[];
  /** `before:YYYY-MM-DD`: sent before that day (UTC) began. */
  sentBefore?: Date;
  /** `after:YYYY-MM-DD`: sent after that day (UTC) ended. */
  sentAfter?: Date;
}

/** Longest query string, in characters. */
export const MAX_QUERY_CHARS = 500;
/** Most words plus phrases in one query (each is one tsquery term). */
export const MAX_TERMS = 16;

const DAY_MS = 86_400_000;

/** The words of a piece of text as the index holds them: letters and digits, lower case. */
export function searchWords(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0);
}

function day(value: string, operator: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const date = match ? new Date(`${value}T00:00:00.000Z`) : undefined;
  if (!match || !date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) {
    throw new BeepError("BAD_USER_INPUT", `${operator}: takes a date as YYYY-MM-DD`, { field: "query" });
  }
  return date;
}

const HAS_VALUES: Record<string, SearchHas> = {
  file: "FILE",
  files: "FILE",
  attachment: "FILE",
  link: "LINK",
  links: "LINK",
  url: "LINK",
  embed: "EMBED",
  embeds: "EMBED",
};

/**
 * Parses the search box syntax: words, "quoted phrases", `from:username`, `in:#channel`,
 * `has:link|file|embed`, `before:YYYY-MM-DD`, `after:YYYY-MM-DD`. An unknown `word:value` is searched as
 * words; an unterminated quote runs to the end. Bad dates and has: values are BAD_USER_INPUT (field
 * `query`), so a typo never silently widens or empties a search.
 */
export function parseSearchQuery(query: string): ParsedSearchQuery {
  if ([...query].length > MAX_QUERY_CHARS) {
    throw new BeepError("BAD_USER_INPUT", `A search holds at most ${MAX_QUERY_CHARS} characters`, {
      field: "query",
    });
  }
  const parsed: ParsedSearchQuery = { words: [], phrases: [], fromUsernames: [], inChannels: [], has: [] };
  const tokens = /"([^"]*)"?|(\S+)/g;
  for (let match = tokens.exec(query); match !== null; match = tokens.exec(query)) {
    if (match[1] !== undefined) {
      const words = searchWords(match[1]);
      if (words.length === 1) parsed.words.push(words[0]!);
      else if (words.length > 1) parsed.phrases.push(words.join(" "));
      continue;
    }
    const token = match[2]!;
    const operator = /^(from|in|has|before|after):(.+)$/i.exec(token);
    if (!operator) {
      parsed.words.push(...searchWords(token));
      continue;
    }
    const name = operator[1]!.toLowerCase();
    const value = operator[2]!;
    if (name === "from") parsed.fromUsernames.push(value.replace(/^@/, "").toLowerCase());
    else if (name === "in") parsed.inChannels.push(value.replace(/^#/, "").toLowerCase());
    else if (name === "has") {
      const has = HAS_VALUES[value.toLowerCase()];
      if (!has) throw new BeepError("BAD_USER_INPUT", `has: takes link, file or embed`, { field: "query" });
      if (!parsed.has.includes(has)) parsed.has.push(has);
    } else if (name === "before") {
      const date = day(value, "before");
      if (!parsed.sentBefore || date < parsed.sentBefore) parsed.sentBefore = date;
    } else {
      const end = new Date(day(value, "after").getTime() + DAY_MS);
      if (!parsed.sentAfter || end > parsed.sentAfter) parsed.sentAfter = end;
    }
  }
  parsed.words = [...new Set(parsed.words)];
  parsed.phrases = [...new Set(parsed.phrases)];
  if (parsed.words.length + parsed.phrases.length > MAX_TERMS) {
    throw new BeepError("BAD_USER_INPUT", `A search holds at most ${MAX_TERMS} words and phrases`, {
      field: "query",
    });
  }
  return parsed;
}
