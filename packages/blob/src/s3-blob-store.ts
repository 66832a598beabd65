import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import type { BlobInfo, BlobStore } from "./blob.ts";
import { assertBlobKey, assertBlobPrefix, assertContentType, chunkToBytes } from "./blob-input.ts";

/** Minimum S3 part size (except the last part). */
const MIN_PART_SIZE = 5 * 1024 * 1024;
const DEFAULT_CONTENT_TYPE = "application/octet-stream";

/** Options of `S3BlobStore`, usually parsed from an `s3://` URL by `openBlobStore`. */
export interface S3BlobStoreOptions {
  /** Bucket holding the blobs; it must exist. */
  bucket: string;
  /** Passed to the AWS SDK client as is (region, endpoint, credentials, …). */
  client: S3ClientConfig;
  /** Streams longer than this go up as a multipart upload of parts this size (≥ 5 MiB); default 8 MiB. */
  partSize?: number;
  /** Keys per ListObjects page (1–1000); default 1000. */
  listPageSize?: number;
}

/** A `BlobStore` on any S3-compatible service (AWS, MinIO, Ceph). */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly partSize: number;
  private readonly listPageSize: number;

  private constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    this.partSize = options.partSize ?? 8 * 1024 * 1024;
    this.listPageSize = options.listPageSize ?? 1000;
    if (!Number.isInteger(this.partSize) || this.partSize < MIN_PART_SIZE) {
      throw new RangeError(`s3 partSize must be an integer ≥ ${MIN_PART_SIZE}`);
    }
    if (!Number.isInteger(this.listPageSize) || this.listPageSize < 1 || this.listPageSize > 1000) {
      throw new RangeError("s3 listPageSize must be an integer in 1..1000");
    }
    this.client = new S3Client(options.client);
  }

  /** Creates the client and checks that the bucket is reachable, so a bad config fails at start-up. */
  static async open(options: S3BlobStoreOptions): Promise<S3BlobStore> {
    const store = new S3BlobStore(options);
    try {
      await store.client.send(new HeadBucketCommand({ Bucket: store.bucket }));
    } catch (cause) {
      store.client.destroy();
      throw s3Error(`s3 bucket ${JSON.stringify(options.bucket)} is not reachable`, cause);
    }
    return store;
  }

  async put(key: string, body: Buffer | Readable, contentType: string): Promise<BlobInfo> {
    assertBlobKey(key);
    assertContentType(contentType);
    try {
      const size = Buffer.isBuffer(body)
        ? await this.putObject(key, body, contentType)
        : await this.putStream(key, body, contentType);
      return { key, size, contentType };
    } catch (cause) {
      throw s3Error(`s3 blob put ${this.bucket}/${key}`, cause);
    }
  }

  async get(key: string): Promise<{ info: BlobInfo; body: Readable } | undefined> {
    assertBlobKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!(out.Body instanceof Readable)) throw new Error("response body is not a Node.js stream");
      const info = {
        key,
        size: out.ContentLength ?? 0,
        contentType: out.ContentType ?? DEFAULT_CONTENT_TYPE,
      };
      return { info, body: out.Body };
    } catch (cause) {
      if (isMissingObject(cause)) return undefined;
      throw s3Error(`s3 blob get ${this.bucket}/${key}`, cause);
    }
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    assertBlobKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, size: out.ContentLength ?? 0, contentType: out.ContentType ?? DEFAULT_CONTENT_TYPE };
    } catch (cause) {
      if (isMissingObject(cause)) return undefined;
      throw s3Error(`s3 blob head ${this.bucket}/${key}`, cause);
    }
  }

  async delete(key: string): Promise<void> {
    assertBlobKey(key);
    try {
      // S3 DeleteObject already succeeds for a missing key.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (cause) {
      if (isMissingObject(cause)) return;
      throw s3Error(`s3 blob delete ${this.bucket}/${key}`, cause);
    }
  }

  async list(prefix: string): Promise<string[]> {
    assertBlobPrefix(prefix);
    const keys: string[] = [];
    // ListObjects (v1) paged by Marker = last key seen, not v2's ContinuationToken: AWS, MinIO and Ceph serve
    // both, but s3rver mints v2 tokens with the DES cipher, which OpenSSL 3 lacks, so any truncated v2 page
    // fails there and our pagination could not be tested against it.
    let marker: string | undefined;
    try {
      for (;;) {
        const page = await this.client.send(
          new ListObjectsCommand({
            Bucket: this.bucket,
            Prefix: prefix,
            Marker: marker,
            MaxKeys: this.listPageSize,
          }),
        );
        const contents = page.Contents ?? [];
        for (const object of contents) {
          // Objects written by other tools (e.g. `dir/` markers) are not valid keys: skip rather than return
          // something `get` would reject.
          if (object.Key !== undefined && isValidKey(object.Key)) keys.push(object.Key);
        }
        const last = contents.at(-1)?.Key;
        if (!page.IsTruncated || last === undefined) break;
        marker = last;
      }
    } catch (cause) {
      throw s3Error(`s3 blob list ${this.bucket}/${prefix}`, cause);
    }
    return keys.sort();
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private async putObject(key: string, body: Buffer, contentType: string): Promise<number> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        ContentLength: body.length,
        ContentMD5: md5(body),
      }),
    );
    return body.length;
  }

  /**
   * Uploads a stream of unknown length. Up to one part is buffered: a short stream becomes one PutObject,
   * a longer one a multipart upload, which S3 publishes atomically on completion and we abort on failure.
   */
  private async putStream(key: string, body: Readable, contentType: string): Promise<number> {
    let chunks: Uint8Array[] = [];
    let buffered = 0;
    let size = 0;
    let uploadId: string | undefined;
    const parts: { ETag: string; PartNumber: number }[] = [];
    const flushPart = async (): Promise<void> => {
      const bytes = Buffer.concat(chunks, buffered);
      chunks = [];
      buffered = 0;
      if (uploadId === undefined) {
        const created = await this.client.send(
          new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }),
        );
        if (!created.UploadId) throw new Error("CreateMultipartUpload returned no UploadId");
        uploadId = created.UploadId;
      }
      const PartNumber = parts.length + 1;
      const out = await this.client.send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber,
          Body: bytes,
          ContentLength: bytes.length,
          ContentMD5: md5(bytes),
        }),
      );
      if (!out.ETag) throw new Error(`UploadPart ${PartNumber} returned no ETag`);
      parts.push({ ETag: out.ETag, PartNumber });
    };
    try {
      for await (const chunk of body) {
        const bytes = chunkToBytes(chunk);
        chunks.push(bytes);
        buffered += bytes.length;
        size += bytes.length;
        if (buffered >= this.partSize) await flushPart();
      }
      if (uploadId === undefined)
        return await this.putObject(key, Buffer.concat(chunks, buffered), contentType);
      if (buffered > 0) await flushPart();
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
      return size;
    } catch (error) {
      if (uploadId !== undefined) {
        // Best effort: a leftover upload costs storage until a bucket lifecycle rule removes it.
        await this.client
          .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }))
          .catch(() => undefined);
      }
      throw error;
    }
  }
}

function md5(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("base64");
}

function isValidKey(key: string): boolean {
  try {
    assertBlobKey(key);
    return true;
  } catch {
    return false;
  }
}

function isMissingObject(error: unknown): boolean {
  const name = (error as { name?: unknown } | undefined)?.name;
  return name === "NoSuchKey" || name === "NotFound";
}

/**
 * Wraps an SDK error with context. The SDK error's `$response` holds the signed request (access key id in the
 * Authorization header); it is made non-enumerable so loggers that serialise causes do not print it.
 */
function s3Error(message: string, cause: unknown): Error {
  if (cause instanceof Error && "$response" in cause) {
    Object.defineProperty(cause, "$response", { enumerable: false });
  }
  return new Error(`${message} (${describe(cause)})`, { cause });
}

/** A short description of an SDK error (name and HTTP status) for the wrapping error's message. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === undefined ? `${error.name}: ${error.message}` : `${error.name}, HTTP ${status}`;
}
