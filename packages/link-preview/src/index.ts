export { DEFAULT_MAX_PREVIEW_URLS, extractPreviewableUrls } from "./extract-urls.ts";
export type { PreviewMedia } from "./html-metadata.ts";
export { type AddressVerdict, classifyAddress } from "./ip-policy.ts";
export {
  DEFAULT_USER_AGENT,
  fetchLinkPreview,
  type LinkPreview,
  type LinkPreviewOptions,
  type LinkPreviewType,
} from "./link-preview.ts";
export { DEFAULT_OEMBED_ENDPOINTS, matchOEmbedProvider, type OEmbedProviderName } from "./oembed.ts";
export {
  type HostResolver,
  SafeFetchError,
  type SafeFetchErrorCode,
  type SafeFetchOptions,
  type SafeFetchResponse,
  safeFetch,
} from "./safe-fetch.ts";
