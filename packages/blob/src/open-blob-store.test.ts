import { redactUrl } from "@beep/observability";
import { describe, expect, it } from "vitest";
import { openBlobStore } from "./open-blob-store.ts";

describe("openBlobStore", () => {
  it("rejects an unknown scheme, listing the valid ones", async () => {
    await expect(openBlobStore("ftp://host/dir")).rejects.toThrow(
      /unknown blob store scheme "ftp:".*file:\/\/, s3:\/\//,
    );
    await expect(openBlobStore("not a url")).rejects.toThrow(/valid: file:\/\/, s3:\/\//);
  });

  it("rejects unknown s3 parameters and half-given credentials", async () => {
    await expect(openBlobStore("s3://b?endpont=http://x")).rejects.toThrow(/unknown s3 parameter "endpont"/);
    await expect(openBlobStore("s3://b?accessKeyId=A")).rejects.toThrow(/must be given together/);
    await expect(openBlobStore("s3://b?forcePathStyle=yes")).rejects.toThrow(/forcePathStyle must be/);
    await expect(openBlobStore("s3://b?partSize=1024")).rejects.toThrow(/partSize/);
  });

  it("never puts credentials in the error of an unreachable endpoint", async () => {
    const error = await openBlobStore(
      "s3://bucket?endpoint=http://127.0.0.1:1&accessKeyId=AKIDSECRETID&secretAccessKey=hunter2hunter2",
    ).catch((e: unknown) => e);
    expect(String((error as Error).message)).not.toMatch(/hunter2|AKIDSECRETID/);
    expect((error as Error).message).toContain("secretAccessKey=***");
  });
});

describe("redactUrl", () => {
  it("hides passwords and credential-like parameters", () => {
    expect(redactUrl("redis://user:pw@host:6379/0")).toBe("redis://user:***@host:6379/0");
    expect(
      redactUrl("s3://b?endpoint=http://e&accessKeyId=A&secretAccessKey=S&sessionToken=T&region=r"),
    ).toBe("s3://b?endpoint=http%3A%2F%2Fe&accessKeyId=***&secretAccessKey=***&sessionToken=***&region=r");
    expect(redactUrl("::garbage with secret")).toBe("***");
  });
});
