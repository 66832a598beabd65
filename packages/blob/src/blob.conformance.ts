import { randomBytes, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BlobStore } from "./blob.ts";

/** Creates the store under test; called once per suite and closed after it. */
export type BlobStoreFactory = () => Promise<BlobStore>;

/** Known gaps of a test peer (not of the driver) that make a test meaningless against it. */
export interface BlobConformanceOptions {
  /**
   * Set (to the reason) when the backend itself does not publish writes atomically, e.g. s3rver writes the
   * object file in place; the concurrency test is then skipped. Real S3, MinIO and Ceph are atomic.
   */
  peerNotAtomic?: string;
}

const MiB = 1024 * 1024;

/**
 * Defines the vitest tests every `BlobStore` driver must pass. Tests write under a random prefix, so a
 * shared backend (one bucket) is fine.
 */
export function describeBlobStoreConformance(
  name: string,
  factory: BlobStoreFactory,
  options: BlobConformanceOptions = {},
): void {
  describe(`BlobStore conformance: ${name}`, () => {
    let store: BlobStore;
    const run = randomUUID();
    let n = 0;
    const ns = (): string => `conf-${run}/t${n++}`;

    beforeAll(async () => {
      store = await factory();
    });
    afterAll(async () => {
      await store?.close();
    });

    it("round-trips bytes and content type", async () => {
      const key = `${ns()}/hello.txt`;
      const info = await store.put(key, Buffer.from("hello, beep"), "text/plain; charset=utf-8");
      expect(info).toEqual({ key, size: 11, contentType: "text/plain; charset=utf-8" });
      expect(await store.head(key)).toEqual(info);
      const got = await store.get(key);
      expect(got?.info).toEqual(info);
      expect((await buffer(got!.body)).toString()).toBe("hello, beep");
    });

    it("keeps a 5 MiB binary body intact", async () => {
      const key = `${ns()}/big.bin`;
      const body = randomBytes(5 * MiB);
      await store.put(key, body, "application/octet-stream");
      const got = await store.get(key);
      expect(got?.info.size).toBe(body.length);
      expect((await buffer(got!.body)).equals(body)).toBe(true);
    });

    it("stores an empty body", async () => {
      const key = `${ns()}/empty`;
      await store.put(key, Buffer.alloc(0), "application/octet-stream");
      const got = await store.get(key);
      expect(got?.info.size).toBe(0);
      expect((await buffer(got!.body)).length).toBe(0);
    });

    it("accepts a stream of unknown length, small and larger than a multipart part", async () => {
      const small = `${ns()}/small`;
      expect(await store.put(small, Readable.from([Buffer.from("ab"), "cd"]), "text/plain")).toMatchObject({
        size: 4,
      });
      expect((await buffer((await store.get(small))!.body)).toString()).toBe("abcd");

      const large = `${ns()}/large`;
      const chunks = Array.from({ length: 9 * 4 + 1 }, () => randomBytes(MiB / 4)); // 9.25 MiB
      const whole = Buffer.concat(chunks);
      const info = await store.put(large, Readable.from(chunks), "video/webm");
      expect(info).toEqual({ key: large, size: whole.length, contentType: "video/webm" });
      const got = await store.get(large);
      expect(got?.info).toEqual(info);
      expect((await buffer(got!.body)).equals(whole)).toBe(true);
    });

    it("rejects a failing body stream and leaves the old blob", async () => {
      const key = `${ns()}/failing`;
      await store.put(key, Buffer.from("old"), "text/plain");
      const failing = Readable.from(
        (async function* () {
          yield Buffer.from("partial");
          throw new Error("client went away");
        })(),
      );
      await expect(store.put(key, failing, "text/plain")).rejects.toThrow();
      expect((await buffer((await store.get(key))!.body)).toString()).toBe("old");
      expect(await store.list(`${key}`)).toEqual([key]);
    });

    it("reads a missing key as undefined", async () => {
      const key = `${ns()}/missing`;
      expect(await store.get(key)).toBeUndefined();
      expect(await store.head(key)).toBeUndefined();
    });

    it("treats a key that is only a prefix of others as missing", async () => {
      const dir = ns();
      await store.put(`${dir}/d/x`, Buffer.from("x"), "text/plain");
      expect(await store.get(`${dir}/d`)).toBeUndefined();
      expect(await store.head(`${dir}/d`)).toBeUndefined();
    });

    it("lets a key and keys below it coexist", async () => {
      const dir = ns();
      await store.put(`${dir}/a`, Buffer.from("top"), "text/plain");
      await store.put(`${dir}/a/b`, Buffer.from("below"), "text/plain");
      expect((await buffer((await store.get(`${dir}/a`))!.body)).toString()).toBe("top");
      expect((await buffer((await store.get(`${dir}/a/b`))!.body)).toString()).toBe("below");
      expect(await store.list(`${dir}/`)).toEqual([`${dir}/a`, `${dir}/a/b`]);
    });

    it("deletes idempotently", async () => {
      const key = `${ns()}/gone`;
      await store.put(key, Buffer.from("x"), "text/plain");
      await store.delete(key);
      expect(await store.get(key)).toBeUndefined();
      await expect(store.delete(key)).resolves.toBeUndefined();
      await expect(store.delete(`${ns()}/never/existed`)).resolves.toBeUndefined();
    });

    it("overwrites bytes and content type", async () => {
      const key = `${ns()}/over`;
      await store.put(key, Buffer.from("first version, longer"), "text/plain");
      const info = await store.put(key, Buffer.from("second"), "application/json");
      expect(info).toEqual({ key, size: 6, contentType: "application/json" });
      expect(await store.head(key)).toEqual(info);
      expect((await buffer((await store.get(key))!.body)).toString()).toBe("second");
    });

    it("lists a prefix sorted, without other prefixes", async () => {
      const dir = ns();
      const mine = [`${dir}/p/c`, `${dir}/p/a`, `${dir}/p/b/deep/x`, `${dir}/p/a-b`, `${dir}/p/a.b`];
      const others = [`${dir}/q/a`, `${dir}/pp/a`, `${dir}/p`];
      for (const key of [...mine, ...others]) await store.put(key, Buffer.from(key), "text/plain");
      expect(await store.list(`${dir}/p/`)).toEqual([...mine].sort());
      expect(await store.list(`${dir}/p/a`)).toEqual([`${dir}/p/a`, `${dir}/p/a-b`, `${dir}/p/a.b`]);
      expect(await store.list(`${dir}/p`)).toEqual([...mine, `${dir}/pp/a`, `${dir}/p`].sort());
      expect(await store.list(`${dir}/nothing/`)).toEqual([]);
      const all = await store.list(`${dir}/`);
      expect(all).toEqual([...mine, ...others].sort());
      expect(await store.list("")).toEqual(expect.arrayContaining(all));
    });

    it("no longer lists a deleted key", async () => {
      const dir = ns();
      await store.put(`${dir}/x/y/z`, Buffer.from("z"), "text/plain");
      await store.put(`${dir}/x/w`, Buffer.from("w"), "text/plain");
      await store.delete(`${dir}/x/y/z`);
      expect(await store.list(`${dir}/`)).toEqual([`${dir}/x/w`]);
      await store.put(`${dir}/x/y/z`, Buffer.from("again"), "text/plain");
      expect(await store.list(`${dir}/`)).toEqual([`${dir}/x/w`, `${dir}/x/y/z`]);
    });

    const badKeys = [
      "../x",
      "/abs",
      "a/../../b",
      "",
      "a//b",
      "a/",
      "./a",
      "a/./b",
      "..",
      "a\\b",
      "a b",
      "é",
      "a@b",
    ];
    it.each(badKeys)("rejects key %j in every operation", async (key) => {
      await expect(store.put(key, Buffer.from("x"), "text/plain")).rejects.toThrow(/invalid blob key/);
      await expect(store.put(key, Readable.from(["x"]), "text/plain")).rejects.toThrow(/invalid blob key/);
      await expect(store.get(key)).rejects.toThrow(/invalid blob key/);
      await expect(store.head(key)).rejects.toThrow(/invalid blob key/);
      await expect(store.delete(key)).rejects.toThrow(/invalid blob key/);
    });

    it("rejects traversal prefixes in list", async () => {
      for (const prefix of ["../", "/abs", "a/../", "a//", "./"]) {
        await expect(store.list(prefix)).rejects.toThrow(/invalid blob prefix/);
      }
    });

    it("rejects an invalid content type", async () => {
      const key = `${ns()}/ct`;
      for (const contentType of ["", "text/plain\r\nX-Injected: 1", " leading-space"]) {
        await expect(store.put(key, Buffer.from("x"), contentType)).rejects.toThrow(/invalid content type/);
      }
      expect(await store.head(key)).toBeUndefined();
    });

    const concurrency =
      "leaves one whole value after concurrent puts to one key, and readers never see a part";
    it.skipIf(options.peerNotAtomic !== undefined)(
      `${concurrency}${skipNote(options.peerNotAtomic)}`,
      async () => {
        const key = `${ns()}/race`;
        const size = 256 * 1024;
        const writers = Array.from({ length: 8 }, (_, i) =>
          i % 2 === 0
            ? store.put(key, Buffer.alloc(size, i), `application/x-${i}`)
            : store.put(
                key,
                Readable.from([Buffer.alloc(size / 2, i), Buffer.alloc(size / 2, i)]),
                `application/x-${i}`,
              ),
        );
        const readers = Array.from({ length: 8 }, async () => {
          const got = await store.get(key);
          if (!got) return;
          const bytes = await buffer(got.body);
          expect(bytes.length).toBe(size);
          expect(got.info.contentType).toBe(`application/x-${bytes[0]}`);
          expect(bytes.every((b) => b === bytes[0])).toBe(true);
        });
        await Promise.all([...writers, ...readers]);
        const got = await store.get(key);
        const bytes = await buffer(got!.body);
        expect(bytes.length).toBe(size);
        expect(bytes.every((b) => b === bytes[0])).toBe(true);
        expect(got!.info).toEqual({ key, size, contentType: `application/x-${bytes[0]}` });
      },
    );
  });
}

function skipNote(reason: string | undefined): string {
  return reason === undefined ? "" : ` (skipped: ${reason})`;
}
