/** How many previews one message gets unless the caller says otherwise. */
export const DEFAULT_MAX_PREVIEW_URLS = 5;

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})/;
const URL_PATTERN = /https?:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCTUATION = /[.,:;!?*_~|\]}]$/;

/** Blanks fenced code blocks (``` or ~~~, CommonMark rules: an unclosed fence runs to the end). */
function blankFencedBlocks(markdown: string): string {
  const lines = markdown.split("\n");
  let fence: string | undefined;
  return lines
    .map((line) => {
      if (fence === undefined) {
        const open = FENCE_OPEN.exec(line);
        // A backtick fence's info string may not contain a backtick; such a line is not a fence.
        if (open?.[1] && !(open[1].startsWith("`") && line.slice(open[0].length).includes("`"))) {
          fence = open[1];
          return "";
        }
        return line;
      }
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line);
      if (close?.[1] && close[1][0] === fence[0] && close[1].length >= fence.length) fence = undefined;
      return "";
    })
    .join("\n");
}

/** Blanks inline code spans: a run of N backticks up to the next run of exactly N backticks. */
function blankCodeSpans(text: string): string {
  let out = "";
  let index = 0;
  while (index < text.length) {
    const tick = text.indexOf("`", index);
    if (tick === -1) {
      out += text.slice(index);
      break;
    }
    out += text.slice(index, tick);
    let runEnd = tick;
    while (text[runEnd] === "`") runEnd++;
    const run = text.slice(tick, runEnd);
    const closing = new RegExp(`(?<!\`)${run}(?!\`)`, "g");
    closing.lastIndex = runEnd;
    const match = closing.exec(text);
    if (!match) {
      // No closing run: the backticks are literal text.
      out += run;
      index = runEnd;
      continue;
    }
    out += " ";
    index = match.index + run.length;
  }
  return out;
}

/** Trims what prose puts after a URL: sentence punctuation and a closing parenthesis it did not open. */
function trimTrailing(candidate: string): string {
  let url = candidate;
  for (;;) {
    if (TRAILING_PUNCTUATION.test(url)) {
      url = url.slice(0, -1);
    } else if (url.endsWith(")") && count(url, "(") < count(url, ")")) {
      url = url.slice(0, -1);
    } else {
      return url;
    }
  }
}

function count(text: string, char: string): number {
  let n = 0;
  for (const c of text) if (c === char) n++;
  return n;
}

/**
 * The http(s) URLs of a Markdown message that deserve a preview, in order of appearance, deduplicated
 * (by normalised URL), at most `max`. URLs inside code spans or fenced code blocks are skipped, and so are
 * URLs written as `<https://…>`, which (as on Discord) means "link, but do not preview".
 */
export function extractPreviewableUrls(content: string, max: number = DEFAULT_MAX_PREVIEW_URLS): string[] {
  const limit = Math.floor(max);
  if (!(limit > 0)) return [];
  const text = blankCodeSpans(blankFencedBlocks(content.replace(/\r\n?/g, "\n")));
  const urls: string[] = [];
  for (const match of text.matchAll(URL_PATTERN)) {
    const start = match.index;
    const end = start + match[0].length;
    if (text[start - 1] === "<" && text[end] === ">") continue;
    let url: URL;
    try {
      url = new URL(trimTrailing(match[0]));
    } catch {
      continue;
    }
    if (url.hostname === "" || url.username !== "" || url.password !== "") continue;
    if (!urls.includes(url.href)) urls.push(url.href);
    if (urls.length >= limit) break;
  }
  return urls;
}
