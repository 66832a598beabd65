import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { MAX_GRAPHQL_BODY_BYTES, preReadJsonBody } from "./graphql-body.ts";

function request(body: string, headers: Record<string, string>, method = "POST"): IncomingMessage {
  const stream = Readable.from([Buffer.from(body)]) as unknown as IncomingMessage;
  return Object.assign(stream, { method, headers });
}

const json = (body: string, extra: Record<string, string> = {}) =>
  request(body, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    ...extra,
  });

describe("pre-reading GraphQL JSON bodies", () => {
  it("hands a JSON object over parsed", async () => {
    const body = JSON.stringify({ query: "{ a }", variables: { é: "ü" } });
    await expect(preReadJsonBody(json(body))).resolves.toEqual({ query: "{ a }", variables: { é: "ü" } });
    await expect(
      preReadJsonBody(json("[1]", { "content-type": "application/graphql+json; charset=utf-8" })),
    ).resolves.toEqual([1]);
  });

  it("hands anything yoga refuses over as text, for yoga to refuse as before", async () => {
    for (const body of ["{not json", "null", "42", '"q"', "{}", "[]", " "]) {
      await expect(preReadJsonBody(json(body))).resolves.toBe(body);
    }
  });

  it("leaves yoga to read what it must limit or parse otherwise", () => {
    const body = '{"query":"{ a }"}';
    expect(preReadJsonBody(request(body, { "content-type": "application/json" }))).toBeUndefined();
    expect(preReadJsonBody(json(body, { "content-length": "1e3" }))).toBeUndefined();
    expect(
      preReadJsonBody(json(body, { "content-length": String(MAX_GRAPHQL_BODY_BYTES + 1) })),
    ).toBeUndefined();
    expect(preReadJsonBody(json("", { "content-length": "0" }))).toBeUndefined();
    expect(preReadJsonBody(json(body, { "content-type": "text/plain" }))).toBeUndefined();
    expect(preReadJsonBody(json(body, { "content-type": "application/jsonx" }))).toBeUndefined();
    expect(preReadJsonBody(request(body, { "content-type": "application/json" }, "GET"))).toBeUndefined();
  });
});
