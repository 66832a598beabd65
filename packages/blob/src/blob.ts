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
 * missing key succeeds. A key and keys below it may coexist (`a` and `a/b`),
 * as in S3.
 */
export interface BlobStore {
  /** Stores `body` under `key`, replacing any previous blob; a stream is consumed to its end. */
  put(key: string, body: Buffer | Readable, contentType: string): Promise<BlobInfo>;
  /** Opens a blob for reading; the caller must consume or destroy `body`. */
  get(key: string): Promise<{ info: BlobInfo; body: Readable } | undefined>;
  /** Metadata of a blob without its body. */
  head(key: string): Promise<BlobInfo | undefined>;
  /** Removes a blob; succeeds when it is already absent. */
  delete(key: string): Promise<void>;
  /** Keys starting with `prefix` (a plain string prefix, `""` for all), sorted by code unit. */
  list(prefix: string): Promise<string[]>;
  /** Releases connections and timers; the store must not be used afterwards. */
  close(): Promise<void>;
}
