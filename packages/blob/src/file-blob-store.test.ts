import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { describeBlobStoreConformance } from "./blob.conformance.ts";
import { FileBlobStore } from "./file-blob-store.ts";
import { openBlobStore } from "./open-blob-store.ts";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "beep-blob-"));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describeBlobStoreConformance("file://", async () => openBlobStore(`file://${await tempDir()}`));

/** Every file below `dir`, relative, sorted. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe("FileBlobStore", () => {
  it("resolves a relative file:// URL against the cwd and creates the directory", async () => {
    const name = `.beep-test-${randomUUID()}`;
    try {
      const store = await openBlobStore(`file://./${name}/blobs`);
      expect(store).toBeInstanceOf(FileBlobStore);
      expect((store as FileBlobStore).root).toBe(resolve(name, "blobs"));
      expect(await readdir(resolve(name, "blobs"))).toEqual([]);
    } finally {
      await rm(resolve(name), { recursive: true, force: true });
    }
  });

  it("writes nothing outside its root for traversal keys", async () => {
    const parent = await tempDir();
    const store = await openBlobStore(`file://${parent}/root`);
    for (const key of ["../x", "a/../../x", "/x"]) {
      await expect(store.put(key, Buffer.from("x"), "text/plain")).rejects.toThrow(/invalid blob key/);
    }
    expect(await tree(parent)).toEqual([]);
  });

  it("leaves no temp file after a failed put and prunes empty directories after delete", async () => {
    const root = await tempDir();
    const store = await openBlobStore(`file://${root}`);
    const failing = Readable.from(
      (async function* () {
        yield Buffer.from("x");
        throw new Error("boom");
      })(),
    );
    await expect(store.put("a/b/c", failing, "text/plain")).rejects.toThrow(/file blob put "a\/b\/c"/);
    expect(await tree(root)).toEqual([]);
    await store.put("a/b/c", Buffer.from("x"), "text/plain");
    await store.put("a/d", Buffer.from("y"), "text/plain");
    expect(await tree(root)).toEqual(["a/b/c@blob", "a/d@blob"]);
    await store.delete("a/b/c");
    expect(await readdir(join(root, "a"))).toEqual(["d@blob"]);
    await store.delete("a/d");
    expect(await readdir(root)).toEqual([]);
  });

  it("ignores stray files that are not blobs when listing", async () => {
    const root = await tempDir();
    const store = await openBlobStore(`file://${root}`);
    await store.put("k", Buffer.from("x"), "text/plain");
    await writeFile(join(root, "README"), "not a blob");
    await writeFile(join(root, ".k@tmp-123"), "leftover temp");
    expect(await store.list("")).toEqual(["k"]);
  });

  it("reports a corrupt blob file with the key", async () => {
    const root = await tempDir();
    const store = await openBlobStore(`file://${root}`);
    await writeFile(join(root, "bad@blob"), "no header here");
    await expect(store.head("bad")).rejects.toThrow(/file blob head "bad"/);
    await expect(store.get("bad")).rejects.toThrow(/file blob get "bad"/);
  });
});
