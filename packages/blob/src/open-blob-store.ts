import { isAbsolute, resolve } from "node:path";
import type { S3ClientConfig } from "@aws-sdk/client-s3";
import { redactUrl } from "@beep/observability";
import type { BlobStore } from "./blob.ts";
import { FileBlobStore } from "./file-blob-store.ts";
import { S3BlobStore } from "./s3-blob-store.ts";

/** URL schemes `openBlobStore` understands. */
export const BLOB_URL_SCHEMES = ["file:", "s3:"] as const;

const S3_PARAMS = [
  "endpoint",
  "region",
  "forcePathStyle",
  "accessKeyId",
  "secretAccessKey",
  "sessionToken",
  "checksum",
  "partSize",
] as const;

/**
 * Opens the blob store a URL names:
 * - `file://./.beep/blobs` (relative to the cwd) or `file:///abs/path`;
 * - `s3://bucket?endpoint=…&region=…&forcePathStyle=true&accessKeyId=…&secretAccessKey=…`; without keys in
 *   the URL the AWS SDK's default chain applies (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, profiles, …).
 *   `checksum=when_supported|when_required` picks the SDK's flexible checksums (default: `when_required` with a
 *   custom endpoint, since many S3-compatible servers reject aws-chunked trailers); `partSize` sets the
 *   multipart part size in bytes.
 * Errors name the URL with its credentials redacted.
 */
export async function openBlobStore(url: string): Promise<BlobStore> {
  const safeUrl = redactUrl(url);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*:)/.exec(url)?.[1]?.toLowerCase();
  try {
    switch (scheme) {
      case "file:":
        return await FileBlobStore.open(parseFileUrl(url));
      case "s3:":
        return await S3BlobStore.open(parseS3Url(url));
      default:
        throw new Error(`unknown blob store scheme ${JSON.stringify(scheme ?? "")}; valid: file://, s3://`);
    }
  } catch (cause) {
    throw new Error(`open blob store ${safeUrl}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

/** `file://./rel`, `file://rel`, `file:///abs` → an absolute directory path. */
function parseFileUrl(url: string): string {
  // Not `new URL()`: WHATWG parsing turns `file://./x` into host `.` and would lose the relative path.
  const rest = url.slice("file://".length).replace(/[?#].*$/, "");
  if (!url.toLowerCase().startsWith("file://") || rest === "") {
    throw new Error("expected file://./relative/dir or file:///absolute/dir");
  }
  const path = decodeURIComponent(rest);
  return isAbsolute(path) ? path : resolve(path);
}

function parseS3Url(url: string): { bucket: string; client: S3ClientConfig; partSize?: number } {
  const parsed = new URL(url);
  const bucket = decodeURIComponent(parsed.hostname);
  if (!bucket) throw new Error("expected s3://bucket?…");
  if (parsed.pathname !== "" && parsed.pathname !== "/") {
    throw new Error("a key prefix in the path is not supported; use s3://bucket?…");
  }
  const params = parsed.searchParams;
  for (const name of params.keys()) {
    if (!(S3_PARAMS as readonly string[]).includes(name)) {
      throw new Error(`unknown s3 parameter ${JSON.stringify(name)}; valid: ${S3_PARAMS.join(", ")}`);
    }
  }
  const endpoint = params.get("endpoint") ?? undefined;
  const client: S3ClientConfig = {
    region: params.get("region") ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1",
    forcePathStyle: parseBoolean("forcePathStyle", params.get("forcePathStyle")) ?? false,
  };
  if (endpoint !== undefined) client.endpoint = endpoint;
  const accessKeyId = params.get("accessKeyId");
  const secretAccessKey = params.get("secretAccessKey");
  if ((accessKeyId === null) !== (secretAccessKey === null)) {
    throw new Error("accessKeyId and secretAccessKey must be given together");
  }
  if (accessKeyId !== null && secretAccessKey !== null) {
    const sessionToken = params.get("sessionToken");
    client.credentials = { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  }
  const checksum = params.get("checksum") ?? (endpoint === undefined ? "when_supported" : "when_required");
  if (checksum !== "when_supported" && checksum !== "when_required") {
    throw new Error("checksum must be when_supported or when_required");
  }
  const mode = checksum === "when_supported" ? "WHEN_SUPPORTED" : "WHEN_REQUIRED";
  client.requestChecksumCalculation = mode;
  client.responseChecksumValidation = mode;
  const partSize = params.get("partSize");
  return { bucket, client, ...(partSize === null ? {} : { partSize: Number(partSize) }) };
}

function parseBoolean(name: string, value: string | null): boolean | undefined {
  if (value === null) return undefined;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new Error(`${name} must be true or false`);
}
