import { Parser } from "htmlparser2";

/** Longest texts kept in a preview, in characters: enough for a card, bounded for storage and events. */
export const TEXT_LIMITS = { title: 256, description: 1024, siteName: 128, authorName: 128 } as const;
const MAX_URL_LENGTH = 2048;
const MAX_MEDIA_DIMENSION = 16_384;

/** What a page says about itself in its `<head>`: meta tags (by lower-case name/property), title, base. */
export interface RawHtmlMetadata {
  meta: ReadonlyMap<string, string>;
  title: string | undefined;
  baseHref: string | undefined;
}

/** A picture or player of a preview; `url` is absolute http(s). */
export interface PreviewMedia {
  url: string;
  width?: number;
  height?: number;
}

/** Preview fields read from a page's OpenGraph / Twitter card / plain HTML metadata. */
export interface PageMetadata {
  title: string;
  description: string;
  siteName: string | undefined;
  image: PreviewMedia | undefined;
  video: PreviewMedia | undefined;
  color: string | undefined;
}

/**
 * Decodes an HTML body to text: BOM first, then the HTTP charset, then a `<meta charset>` /
 * `<meta http-equiv=content-type>` in the first 1024 bytes (the HTML prescan window), else UTF-8.
 * Unknown labels fall back to UTF-8; undecodable bytes become U+FFFD instead of failing.
 */
export function decodeHtml(body: Uint8Array, headerCharset: string | undefined): string {
  const bom = sniffBom(body);
  const label = bom ?? headerCharset ?? sniffMetaCharset(body) ?? "utf-8";
  return decoderFor(label).decode(body);
}

function sniffBom(body: Uint8Array): string | undefined {
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return "utf-8";
  if (body[0] === 0xfe && body[1] === 0xff) return "utf-16be";
  if (body[0] === 0xff && body[1] === 0xfe) return "utf-16le";
  return undefined;
}

function sniffMetaCharset(body: Uint8Array): string | undefined {
  const head = Buffer.from(body.subarray(0, 1024)).toString("latin1");
  return /<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(head)?.[1]?.toLowerCase();
}

function decoderFor(label: string): TextDecoder {
  try {
    return new TextDecoder(label);
  } catch {
    return new TextDecoder("utf-8");
  }
}

/** Collects meta tags, the first `<title>` and `<base href>` with htmlparser2 (forgiving, streaming, no DOM). */
export function readHtmlMetadata(html: string): RawHtmlMetadata {
  const meta = new Map<string, string>();
  let title: string | undefined;
  let titleText: string | undefined;
  let baseHref: string | undefined;
  let svgDepth = 0;
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        if (name === "svg") svgDepth++;
        if (name === "meta") {
          const key = (attribs.property ?? attribs.name ?? attribs.itemprop ?? "").trim().toLowerCase();
          const content = attribs.content;
          // The first value wins: pages list their main image/title first.
          if (key && content !== undefined && !meta.has(key)) meta.set(key, content);
        } else if (name === "base" && baseHref === undefined && attribs.href) {
          baseHref = attribs.href;
        } else if (name === "title" && title === undefined && svgDepth === 0) {
          titleText = "";
        }
      },
      ontext(text) {
        if (titleText !== undefined) titleText += text;
      },
      onclosetag(name) {
        if (name === "svg" && svgDepth > 0) svgDepth--;
        if (name === "title" && titleText !== undefined) {
          title = titleText;
          titleText = undefined;
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.end(html);
  return { meta, title: title ?? titleText, baseHref };
}

/** Collapses whitespace, drops control characters and cuts at `limit` code points (with an ellipsis). */
export function cleanText(text: string | undefined, limit: number): string {
  if (!text) return "";
  const flat = text
    .replace(/\p{Cc}+/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
  const chars = Array.from(flat);
  return chars.length <= limit
    ? flat
    : `${chars
        .slice(0, limit - 1)
        .join("")
        .trimEnd()}…`;
}

/** Resolves a possibly relative URL; only absolute http(s) URLs of sane length are kept. */
export function resolveHttpUrl(value: string | undefined, base: string): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value.trim(), base);
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
    return url.href.length <= MAX_URL_LENGTH ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** A positive integer dimension, or undefined for anything else ("", "100%", "-1", "1e9"). */
export function parseDimension(value: string | number | undefined): number | undefined {
  const n = typeof value === "number" ? value : /^\s*\d+\s*$/.test(value ?? "") ? Number(value) : Number.NaN;
  return Number.isInteger(n) && n > 0 && n <= MAX_MEDIA_DIMENSION ? n : undefined;
}

/** A CSS hex colour normalised to `#rrggbb`, or undefined. */
export function parseHexColor(value: string | undefined): string | undefined {
  const match = /^\s*#([0-9a-f]{3}|[0-9a-f]{6})\s*$/i.exec(value ?? "");
  if (!match?.[1]) return undefined;
  const hex = match[1].toLowerCase();
  return `#${hex.length === 3 ? [...hex].map((c) => c + c).join("") : hex}`;
}

function media(url: string | undefined, width: string | undefined, height: string | undefined) {
  if (!url) return undefined;
  const result: PreviewMedia = { url };
  const w = parseDimension(width);
  const h = parseDimension(height);
  if (w !== undefined) result.width = w;
  if (h !== undefined) result.height = h;
  return result;
}

/**
 * Preview fields of a page: OpenGraph first, then Twitter card tags, then `<title>` and meta description.
 * Relative image/video URLs are resolved against `<base href>` (if http(s)) and the page URL.
 */
export function pageMetadata(raw: RawHtmlMetadata, pageUrl: string): PageMetadata {
  const m = (key: string) => {
    const value = raw.meta.get(key)?.trim();
    return value === "" ? undefined : value;
  };
  const base = resolveHttpUrl(raw.baseHref, pageUrl) ?? pageUrl;
  const imageUrl = resolveHttpUrl(
    m("og:image:secure_url") ??
      m("og:image") ??
      m("og:image:url") ??
      m("twitter:image") ??
      m("twitter:image:src"),
    base,
  );
  const videoUrl = resolveHttpUrl(m("og:video:secure_url") ?? m("og:video:url") ?? m("og:video"), base);
  return {
    title: cleanText(m("og:title") ?? m("twitter:title") ?? raw.title, TEXT_LIMITS.title),
    description: cleanText(
      m("og:description") ?? m("twitter:description") ?? m("description"),
      TEXT_LIMITS.description,
    ),
    siteName: cleanText(m("og:site_name") ?? m("application-name"), TEXT_LIMITS.siteName) || undefined,
    image: media(imageUrl, m("og:image:width"), m("og:image:height")),
    video: media(videoUrl, m("og:video:width"), m("og:video:height")),
    color: parseHexColor(m("theme-color")),
  };
}
