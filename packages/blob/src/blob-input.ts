/** Longest accepted key in bytes (S3's own limit). */
export const MAX_KEY_LENGTH = 1024;

const SEGMENT = /^[A-Za-z0-9._-]+$/;
const PREFIX_CHARS = /^[A-Za-z0-9._/-]*$/;
// A content type goes into an HTTP header or a file header: printable ASCII only, so no CR/LF injection.
const CONTENT_TYPE = /^[\x21-\x7e][\x20-\x7e]{0,254}$/;

/** Throws unless `key` is a valid blob key (see `BlobStore`); runs before any I/O. */
export function assertBlobKey(key: string): void {
  if (typeof key !== "string" || key.length === 0) throw new TypeError("invalid blob key: empty");
  if (key.length > MAX_KEY_LENGTH) throw new TypeError(`invalid blob key: longer than ${MAX_KEY_LENGTH}`);
  for (const segment of key.split("/")) {
    if (!SEGMENT.test(segment) || segment === "." || segment === "..") {
      throw new TypeError(`invalid blob key ${JSON.stringify(key)}: segments must match [A-Za-z0-9._-]+`);
    }
  }
}

/** Throws unless `prefix` could start a valid key (`""` is allowed and means every key). */
export function assertBlobPrefix(prefix: string): void {
  if (typeof prefix !== "string" || prefix.length > MAX_KEY_LENGTH || !PREFIX_CHARS.test(prefix)) {
    throw new TypeError(`invalid blob prefix ${JSON.stringify(prefix)}`);
  }
  const segments = prefix.split("/");
  // The last segment may be partial; every complete one must be a valid key segment.
  segments.pop();
  for (const segment of segments) {
    if (segment === "" || segment === "." || segment === "..") {
      throw new TypeError(`invalid blob prefix ${JSON.stringify(prefix)}`);
    }
  }
}

/** Throws unless `contentType` is 1–255 printable ASCII characters. */
export function assertContentType(contentType: string): void {
  if (typeof contentType !== "string" || !CONTENT_TYPE.test(contentType)) {
    throw new TypeError(`invalid content type ${JSON.stringify(contentType)}`);
  }
}

/** One chunk of a body stream as bytes; object-mode streams of anything else are rejected. */
export function chunkToBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === "string") return Buffer.from(chunk);
  throw new TypeError("blob body stream must yield Buffer, Uint8Array or string chunks");
}
