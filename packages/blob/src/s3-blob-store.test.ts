import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeBlobStoreConformance } from "./blob.conformance.ts";
import { openBlobStore } from "./open-blob-store.ts";
import { S3BlobStore } from "./s3-blob-store.ts";

const BUCKET = "beep-test";
let server: S3rver;
let directory: string;
let endpoint: string;

const url = (bucket = BUCKET): string =>
  `s3://${bucket}?endpoint=${endpoint}&region=us-east-1&forcePathStyle=true&accessKeyId=S3RVER&secretAccessKey=S3RVER`;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "beep-s3rver-"));
  // Port 0: the OS picks a free port, so parallel runs never collide.
  server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
  const admin = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
  await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
  admin.destroy();
});

afterAll(async () => {
  await server?.close();
  await rm(directory, { recursive: true, force: true });
});

describeBlobStoreConformance("s3:// (s3rver)", () => openBlobStore(url()), {
  // Seen failing here: s3rver truncates and rewrites the object file in place, so overlapping PUTs interleave.
  peerNotAtomic: "s3rver writes objects in place; run this suite against MinIO to cover it",
});

describe("S3BlobStore", () => {
  it("follows list pagination", async () => {
    const store = await S3BlobStore.open({
      bucket: BUCKET,
      listPageSize: 2,
      client: {
        endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      },
    });
    try {
      const keys = ["pg/e", "pg/a", "pg/d", "pg/c", "pg/b"];
      for (const key of keys) await store.put(key, Buffer.from(key), "text/plain");
      expect(await store.list("pg/")).toEqual([...keys].sort());
    } finally {
      await store.close();
    }
  });

  it("fails to open a missing bucket, naming it but not the secret", async () => {
    const secret = "sUp3rS3cr3tKey";
    const error = await openBlobStore(
      `s3://no-such-bucket?endpoint=${endpoint}&forcePathStyle=true&accessKeyId=AKIDTEST&secretAccessKey=${secret}`,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/no-such-bucket/);
    expect(message).not.toContain(secret);
    expect(message).not.toContain("AKIDTEST");
    // Loggers serialise the cause chain's enumerable fields: none may hold a credential.
    for (let e: unknown = error; e instanceof Error; e = e.cause) {
      const fields = JSON.stringify(Object.fromEntries(Object.entries(e)));
      expect(fields).not.toContain(secret);
      expect(fields).not.toContain("AKIDTEST");
    }
  });
});
