import { decodeHtml, type PreviewMedia, pageMetadata, readHtmlMetadata } from "./html-metadata.ts";
import {
  DEFAULT_OEMBED_ENDPOINTS,
  fetchOEmbed,
  matchOEmbedProvider,
  type OEmbedProviderName,
} from "./oembed.ts";
import { type SafeFetchOptions, safeFetch } from "./safe-fetch.ts";

/** What kind of card a preview is: a page, a playable video, a provider widget (Spotify, tweet), a picture. */
export type LinkPreviewType = "link" | "video" | "rich" | "image";

/** The preview of one URL of a message; plain data, safe to store and to send in a message update event. */
export interface LinkPreview {
  /** The URL as found in the message (normalised by {@link extractPreviewableUrls}). */
  url: string;
  /** Site to show above the title: og:site_name, the oEmbed provider, else the host name. */
  siteName: string;
  /** Title, "" when the page has none. At most 256 characters. */
  title: string;
  /** Description (for a tweet: its text), "" when none. At most 1024 characters. */
  description: string;
  /** Thumbnail or main picture; absolute http(s) URL (to be proxied/cached by the client or a media service). */
  image?: PreviewMedia;
  /** Player to embed in an iframe (YouTube, Spotify) or og:video URL; absolute http(s). */
  video?: PreviewMedia;
  /** Who served the data: the oEmbed provider's name, else the host name without "www.". */
  providerName: string;
  /** Author (YouTube channel, tweet author) when the provider gives one. */
  authorName?: string;
  type: LinkPreviewType;
  /** Accent colour `#rrggbb`: the provider's brand colour or the page's theme-color. */
  color?: string;
}

/** Options of {@link fetchLinkPreview}. */
export interface LinkPreviewOptions {
  /** Passed to every fetch (time limit, ports, resolver, test-only address allowance…). */
  fetch?: SafeFetchOptions;
  /** Override provider oEmbed endpoints (tests point them at a local server). */
  oembedEndpoints?: Partial<Record<OEmbedProviderName, string>>;
  /** Only this many bytes of an HTML page are read and parsed. Default 512 KiB. */
  maxHtmlBytes?: number;
  /** Told why a URL got no preview (refused, failed, not HTML, no metadata), for logs; never throws through. */
  onFailure?: (url: string, error: unknown) => void;
}

/** `User-Agent` sent when the caller sets none; some sites only serve OpenGraph tags to known bots. */
export const DEFAULT_USER_AGENT = "Mozilla/5.0 (compatible; BeepBot/1.0; link preview)";
const DEFAULT_MAX_HTML_BYTES = 512 * 1024;
const HTML_TYPES = ["text/html", "application/xhtml+xml"];

function providerFromHost(url: string): string {
  return new URL(url).hostname.replace(/^www\./, "");
}

async function htmlPreview(url: string, options: LinkPreviewOptions): Promise<LinkPreview | null> {
  const fetchOptions = options.fetch ?? {};
  const response = await safeFetch(url, {
    ...fetchOptions,
    userAgent: fetchOptions.userAgent ?? DEFAULT_USER_AGENT,
    accept: "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
    acceptContentTypes: HTML_TYPES,
    // A preview only needs the <head>: read a bounded prefix and parse what arrived.
    maxBytes: options.maxHtmlBytes ?? DEFAULT_MAX_HTML_BYTES,
    truncate: true,
  });
  const html = decodeHtml(response.body, response.charset);
  const page = pageMetadata(readHtmlMetadata(html), response.url);
  if (!page.title && !page.description && !page.image) return null;
  const providerName = providerFromHost(response.url);
  const preview: LinkPreview = {
    url,
    siteName: page.siteName ?? providerName,
    title: page.title,
    description: page.description,
    providerName,
    type: page.video ? "video" : "link",
  };
  if (page.image) preview.image = page.image;
  if (page.video) preview.video = page.video;
  if (page.color) preview.color = page.color;
  return preview;
}

async function oembedLinkPreview(url: string, options: LinkPreviewOptions): Promise<LinkPreview | null> {
  const match = matchOEmbedProvider(url);
  if (!match) return null;
  const endpoint = options.oembedEndpoints?.[match.provider] ?? DEFAULT_OEMBED_ENDPOINTS[match.provider];
  const found = await fetchOEmbed(match, endpoint, options.fetch ?? {});
  if (!found) return null;
  const preview: LinkPreview = {
    url,
    siteName: found.providerName,
    title: found.title,
    description: found.description,
    providerName: found.providerName,
    type: found.type,
    color: found.color,
  };
  if (found.authorName) preview.authorName = found.authorName;
  if (found.image) preview.image = found.image;
  if (found.video) preview.video = found.video;
  return preview;
}

/**
 * The preview of one URL, or null when it has none (refused by the SSRF rules, failed, timed out, not HTML,
 * no usable metadata). YouTube, Spotify and Twitter/X URLs are asked of the provider's oEmbed endpoint first
 * (falling back to the page itself); every other URL is read as HTML (OpenGraph, Twitter card, `<title>`).
 * Never throws: failures go to `options.onFailure`.
 */
export async function fetchLinkPreview(
  url: string,
  options: LinkPreviewOptions = {},
): Promise<LinkPreview | null> {
  try {
    const viaOEmbed = await oembedLinkPreview(url, options);
    if (viaOEmbed) return viaOEmbed;
  } catch (error) {
    // The provider is down or refused us; the page's own tags are a fine second choice.
    options.onFailure?.(url, error);
  }
  try {
    return await htmlPreview(url, options);
  } catch (error) {
    options.onFailure?.(url, error);
    return null;
  }
}
