import type { Readable } from "node:stream";

/** Metadata of a stored blob. */
export interface BlobInfo {
  key: string;
  size: number;
  contentType: string;
}

/**
 * The blob storage port. Keys are `/`-separated relative paths of
 * `[A-Za-z0-9._-]` segments; a key with `..`, a leading `/` or other
 * characters is rejected with an error before any I/O.
 *
 * Guarantees: `put` is atomic (a reader sees the old or the whole new blob,
 * never a part); `get` of a missing key resolves to `undefined`; `delete` of a
 * missing key succeeds.
 */
export interface BlobStore {
  put(key: string, body: Buffer | Readable, contentType: string): Promise<BlobInfo>;
  get(key: string): Promise<{ info: BlobInfo; body: Readable } | undefined>;
  head(key: string): Promise<BlobInfo | undefined>;
  delete(key: string): Promise<void>;
  /** Keys under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}
