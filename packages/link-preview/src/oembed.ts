import { Parser } from "htmlparser2";
import {
  cleanText,
  type PreviewMedia,
  parseDimension,
  resolveHttpUrl,
  TEXT_LIMITS,
} from "./html-metadata.ts";
import { type SafeFetchOptions, safeFetch } from "./safe-fetch.ts";

/** The oEmbed providers Beep knows; each has a configurable endpoint (tests point them at a local server). */
export type OEmbedProviderName = "youtube" | "spotify" | "twitter";

/** The providers' public oEmbed endpoints. */
export const DEFAULT_OEMBED_ENDPOINTS: Readonly<Record<OEmbedProviderName, string>> = {
  youtube: "https://www.youtube.com/oembed",
  spotify: "https://open.spotify.com/oembed",
  twitter: "https://publish.twitter.com/oembed",
};

const PROVIDER_DEFAULTS: Readonly<Record<OEmbedProviderName, { name: string; color: string }>> = {
  youtube: { name: "YouTube", color: "#ff0000" },
  spotify: { name: "Spotify", color: "#1ed760" },
  twitter: { name: "X", color: "#1d9bf0" },
};

/** A URL recognised as belonging to an oEmbed provider, rewritten to the form its endpoint expects. */
export interface OEmbedMatch {
  provider: OEmbedProviderName;
  canonicalUrl: string;
}

const YOUTUBE_HOSTS = new Set(["youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com"]);
const TWITTER_HOSTS = new Set(["twitter.com", "www.twitter.com", "mobile.twitter.com", "x.com", "www.x.com"]);
const YOUTUBE_ID = /^[A-Za-z0-9_-]{11}$/;
const SPOTIFY_PATH =
  /^\/(?:intl-[a-z]{2}(?:-[a-z]{2})?\/)?(track|album|playlist|artist|episode|show)\/([A-Za-z0-9]{22})\/?$/i;
const TWITTER_PATH = /^\/([A-Za-z0-9_]{1,15})\/status(?:es)?\/(\d{1,20})\/?$/;

/** Recognises YouTube (watch, youtu.be, shorts), Spotify (open.spotify.com) and Twitter/X status URLs. */
export function matchOEmbedProvider(rawUrl: string): OEmbedMatch | undefined {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  const host = url.hostname.toLowerCase();
  if (YOUTUBE_HOSTS.has(host) || host === "youtu.be") {
    let id: string | null | undefined;
    if (host === "youtu.be") id = url.pathname.split("/")[1];
    else if (url.pathname === "/watch") id = url.searchParams.get("v");
    else if (url.pathname.startsWith("/shorts/")) id = url.pathname.split("/")[2];
    if (id && YOUTUBE_ID.test(id)) {
      return { provider: "youtube", canonicalUrl: `https://www.youtube.com/watch?v=${id}` };
    }
    return undefined;
  }
  if (host === "open.spotify.com") {
    const match = SPOTIFY_PATH.exec(url.pathname);
    if (match?.[1] && match[2]) {
      return {
        provider: "spotify",
        canonicalUrl: `https://open.spotify.com/${match[1].toLowerCase()}/${match[2]}`,
      };
    }
    return undefined;
  }
  if (TWITTER_HOSTS.has(host)) {
    const match = TWITTER_PATH.exec(url.pathname);
    if (match?.[1] && match[2]) {
      return { provider: "twitter", canonicalUrl: `https://twitter.com/${match[1]}/status/${match[2]}` };
    }
  }
  return undefined;
}

/** Preview fields read from an oEmbed answer. */
export interface OEmbedPreview {
  type: "link" | "video" | "rich" | "image";
  title: string;
  description: string;
  providerName: string;
  authorName: string | undefined;
  image: PreviewMedia | undefined;
  video: PreviewMedia | undefined;
  color: string;
}

type Json = Record<string, unknown>;

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function dimension(value: unknown): number | undefined {
  if (typeof value === "number" || typeof value === "string") return parseDimension(value);
  return undefined;
}

function withSize(url: string | undefined, width: unknown, height: unknown): PreviewMedia | undefined {
  if (!url) return undefined;
  const result: PreviewMedia = { url };
  const w = dimension(width);
  const h = dimension(height);
  if (w !== undefined) result.width = w;
  if (h !== undefined) result.height = h;
  return result;
}

/**
 * Reads the provider's embed HTML without trusting it: only the first iframe's https `src` (the player)
 * and the text of the first paragraph (a tweet's text) are taken; the HTML itself is never passed on.
 */
function readEmbedHtml(html: string): { playerUrl: string | undefined; text: string } {
  let playerUrl: string | undefined;
  let text = "";
  let inParagraph = false;
  let paragraphDone = false;
  const parser = new Parser({
    onopentag(name, attribs) {
      if (name === "iframe" && playerUrl === undefined && attribs.src?.startsWith("https://")) {
        playerUrl = resolveHttpUrl(attribs.src, attribs.src);
      }
      if (name === "p" && !paragraphDone) inParagraph = true;
      if (name === "br" && inParagraph) text += "\n";
    },
    ontext(chunk) {
      if (inParagraph) text += chunk;
    },
    onclosetag(name) {
      if (name === "p" && inParagraph) {
        inParagraph = false;
        paragraphDone = true;
      }
    },
  });
  parser.end(html);
  return { playerUrl, text };
}

const OEMBED_TYPES: Readonly<Record<string, OEmbedPreview["type"]>> = {
  video: "video",
  rich: "rich",
  photo: "image",
  link: "link",
};

/** Maps an oEmbed 1.0 JSON answer to preview fields; undefined when it is not a usable answer. */
export function oembedPreview(provider: OEmbedProviderName, answer: unknown): OEmbedPreview | undefined {
  if (typeof answer !== "object" || answer === null || Array.isArray(answer)) return undefined;
  const json = answer as Json;
  const type = OEMBED_TYPES[str(json.type) ?? ""];
  if (!type) return undefined;
  const html = str(json.html) ?? "";
  const embed = readEmbedHtml(html.slice(0, 64 * 1024));
  const thumbnail = resolveHttpUrl(str(json.thumbnail_url), "https://invalid.invalid/");
  const photo = type === "image" ? resolveHttpUrl(str(json.url), "https://invalid.invalid/") : undefined;
  const defaults = PROVIDER_DEFAULTS[provider];
  const preview: OEmbedPreview = {
    type,
    title: cleanText(str(json.title), TEXT_LIMITS.title),
    description: cleanText(provider === "twitter" ? embed.text : undefined, TEXT_LIMITS.description),
    providerName: cleanText(str(json.provider_name), TEXT_LIMITS.siteName) || defaults.name,
    authorName: cleanText(str(json.author_name), TEXT_LIMITS.authorName) || undefined,
    image: photo
      ? withSize(photo, json.width, json.height)
      : withSize(thumbnail, json.thumbnail_width, json.thumbnail_height),
    video:
      (type === "video" || type === "rich") && embed.playerUrl && provider !== "twitter"
        ? withSize(embed.playerUrl, json.width, json.height)
        : undefined,
    color: defaults.color,
  };
  if (!preview.title && !preview.description && !preview.image) return undefined;
  return preview;
}

/** Fetches `canonicalUrl`'s oEmbed answer from `endpoint` through {@link safeFetch}. */
export async function fetchOEmbed(
  match: OEmbedMatch,
  endpoint: string,
  fetchOptions: SafeFetchOptions,
): Promise<OEmbedPreview | undefined> {
  const url = new URL(endpoint);
  url.searchParams.set("url", match.canonicalUrl);
  url.searchParams.set("format", "json");
  if (match.provider === "twitter") {
    // Only the tweet text is read; the widget script and parent tweet would only add bytes.
    url.searchParams.set("omit_script", "true");
    url.searchParams.set("hide_thread", "true");
  }
  const response = await safeFetch(url, {
    ...fetchOptions,
    accept: "application/json",
    acceptContentTypes: ["application/json", "text/json", "text/javascript", "application/javascript"],
    maxBytes: Math.min(fetchOptions.maxBytes ?? 256 * 1024, 256 * 1024),
    truncate: false,
  });
  return oembedPreview(match.provider, JSON.parse(new TextDecoder("utf-8").decode(response.body)));
}
