import { randomUUID } from "node:crypto";
import { type FileHandle, mkdir, open, readdir, rename, rmdir, unlink } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import type { BlobInfo, BlobStore } from "./blob.ts";
import { assertBlobKey, assertBlobPrefix, assertContentType, chunkToBytes } from "./blob-input.ts";

// On-disk layout: key `a/b/c` is the file `<root>/a/b/c@blob`. The `@` cannot appear in a key, so a
// blob file never collides with the directory of a deeper key (`a` and `a/b` coexist, as in S3), and
// temp files (`.c@tmp-<uuid>`) are never mistaken for blobs.
const BLOB_SUFFIX = "@blob";
// Each blob file starts with one header line holding its metadata. Keeping the content type in the
// same file as the bytes makes one rename publish both together; a sidecar file would need a second
// rename and a reader could pair new bytes with an old content type.
const MAGIC = "BEEPBLOB1 ";
const HEADER_READ_BYTES = 1024;
const NEWLINE = 0x0a;

interface Header {
  contentType: string;
  length: number;
}

/** A `BlobStore` on the local file system under one root directory. */
export class FileBlobStore implements BlobStore {
  /** Absolute root directory; every blob lives below it. */
  readonly root: string;

  private constructor(root: string) {
    this.root = root;
  }

  /** Opens (and creates if needed) a store rooted at `root`, resolved against the cwd. */
  static async open(root: string): Promise<FileBlobStore> {
    const absolute = resolve(root);
    try {
      await mkdir(absolute, { recursive: true });
    } catch (cause) {
      throw new Error(`open file blob store at ${absolute}`, { cause });
    }
    return new FileBlobStore(absolute);
  }

  async put(key: string, body: Buffer | Readable, contentType: string): Promise<BlobInfo> {
    assertBlobKey(key);
    assertContentType(contentType);
    const target = this.pathOf(key);
    const dir = dirname(target);
    const temp = join(dir, `.${target.slice(dir.length + 1, -BLOB_SUFFIX.length)}@tmp-${randomUUID()}`);
    const header = Buffer.from(`${MAGIC}${JSON.stringify({ contentType })}\n`);
    let handle: FileHandle | undefined;
    try {
      handle = await openTemp(dir, temp);
      await writeAll(handle, header);
      let size = 0;
      if (Buffer.isBuffer(body)) {
        await writeAll(handle, body);
        size = body.length;
      } else {
        for await (const chunk of body) {
          const bytes = chunkToBytes(chunk);
          await writeAll(handle, bytes);
          size += bytes.length;
        }
      }
      // Flush before the rename so a crash cannot publish a name pointing at unwritten data.
      await handle.sync();
      await handle.close();
      handle = undefined;
      await rename(temp, target);
      return { key, size, contentType };
    } catch (cause) {
      await handle?.close().catch(() => undefined); // the original error matters more than a close error
      await unlink(temp).catch(() => undefined); // best effort: the temp file may not exist
      throw new Error(`file blob put ${JSON.stringify(key)}`, { cause });
    }
  }

  async get(key: string): Promise<{ info: BlobInfo; body: Readable } | undefined> {
    assertBlobKey(key);
    const handle = await this.openBlob(key);
    if (!handle) return undefined;
    try {
      const info = await readInfo(handle, key);
      // Reading through the open handle keeps serving this version even if a put renames over it.
      const body = handle.createReadStream({ start: info.headerLength });
      return { info: info.info, body };
    } catch (cause) {
      await handle.close().catch(() => undefined);
      throw new Error(`file blob get ${JSON.stringify(key)}`, { cause });
    }
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    assertBlobKey(key);
    const handle = await this.openBlob(key);
    if (!handle) return undefined;
    try {
      return (await readInfo(handle, key)).info;
    } catch (cause) {
      throw new Error(`file blob head ${JSON.stringify(key)}`, { cause });
    } finally {
      await handle.close();
    }
  }

  async delete(key: string): Promise<void> {
    assertBlobKey(key);
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (cause) {
      if (isMissing(cause)) return;
      throw new Error(`file blob delete ${JSON.stringify(key)}`, { cause });
    }
    await this.pruneEmptyDirs(dirname(path));
  }

  async list(prefix: string): Promise<string[]> {
    assertBlobPrefix(prefix);
    // Only the complete segments of the prefix become a path; the partial last one is a filter.
    const base = prefix.slice(0, prefix.lastIndexOf("/") + 1);
    const keys: string[] = [];
    try {
      await this.walk(base, prefix, keys);
    } catch (cause) {
      throw new Error(`file blob list ${JSON.stringify(prefix)}`, { cause });
    }
    return keys.sort();
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }

  private pathOf(key: string): string {
    const path = join(this.root, ...key.split("/")) + BLOB_SUFFIX;
    // Defence in depth: key validation already excludes every way out of the root.
    if (!path.startsWith(this.root + sep)) throw new TypeError(`invalid blob key ${JSON.stringify(key)}`);
    return path;
  }

  private async openBlob(key: string): Promise<FileHandle | undefined> {
    try {
      return await open(this.pathOf(key), "r");
    } catch (cause) {
      if (isMissing(cause)) return undefined;
      throw new Error(`file blob open ${JSON.stringify(key)}`, { cause });
    }
  }

  /** Appends to `out` every key under directory key-path `dir` (`""` or ending in `/`) starting with `prefix`. */
  private async walk(dir: string, prefix: string, out: string[]): Promise<void> {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(join(this.root, ...dir.split("/").filter(Boolean)), { withFileTypes: true });
    } catch (cause) {
      if (isMissing(cause)) return;
      throw cause;
    }
    for (const entry of entries) {
      const name = entry.name;
      if (entry.isDirectory()) {
        if (name.includes("@")) continue;
        const sub = `${dir}${name}/`;
        if (sub.startsWith(prefix) || prefix.startsWith(sub)) await this.walk(sub, prefix, out);
      } else if (entry.isFile() && name.endsWith(BLOB_SUFFIX)) {
        const key = dir + name.slice(0, -BLOB_SUFFIX.length);
        if (key.startsWith(prefix) && !key.includes("@")) out.push(key);
      }
    }
  }

  /** Removes now-empty directories up to (not including) the root, so deletes do not leave litter. */
  private async pruneEmptyDirs(dir: string): Promise<void> {
    let current = dir;
    while (current.startsWith(this.root + sep)) {
      try {
        await rmdir(current);
      } catch {
        return; // not empty, already gone or busy: all mean stop here
      }
      current = dirname(current);
    }
  }
}

/** Creates the temp file, recreating its directory if a concurrent delete pruned it meanwhile. */
async function openTemp(dir: string, temp: string): Promise<FileHandle> {
  for (let attempt = 0; ; attempt++) {
    await mkdir(dir, { recursive: true });
    try {
      return await open(temp, "wx");
    } catch (error) {
      if (!isMissing(error) || attempt >= 5) throw error;
    }
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

async function readInfo(handle: FileHandle, key: string): Promise<{ info: BlobInfo; headerLength: number }> {
  const buffer = Buffer.alloc(HEADER_READ_BYTES);
  const { bytesRead } = await handle.read(buffer, 0, HEADER_READ_BYTES, 0);
  const header = parseHeader(buffer.subarray(0, bytesRead));
  const { size } = await handle.stat();
  return {
    info: { key, size: size - header.length, contentType: header.contentType },
    headerLength: header.length,
  };
}

function parseHeader(bytes: Buffer): Header {
  const end = bytes.indexOf(NEWLINE);
  const line = end < 0 ? "" : bytes.subarray(0, end).toString("utf8");
  if (line.startsWith(MAGIC)) {
    const meta: unknown = JSON.parse(line.slice(MAGIC.length));
    if (typeof meta === "object" && meta !== null && "contentType" in meta) {
      const { contentType } = meta;
      if (typeof contentType === "string") return { contentType, length: end + 1 };
    }
  }
  throw new Error("not a blob file (bad header)");
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}
