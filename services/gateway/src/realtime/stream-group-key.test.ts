import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { streamGroupKey } from "./stream-group-key.ts";

const keyOf = (query: string, variables?: Record<string, unknown>, operationName?: string) =>
  streamGroupKey(query, parse(query), { variables, operationName });

describe("streamGroupKey", () => {
  const RESUMING = "subscription ($since: String) { events(since: $since) { seq } }";

  it("groups subscriptions that differ only by the since they resume from", () => {
    expect(keyOf(RESUMING, { since: "10" })).toBe(keyOf(RESUMING, { since: "42" }));
    expect(keyOf('subscription { events(since: "1") { seq } }')).not.toBe(keyOf(RESUMING, {}));
  });

  it("keeps a since variable that is also read elsewhere, and every other variable", () => {
    const shared =
      "subscription ($since: String) { events(since: $since) { seq @include(if: true) } a: events(since: $since) { seq } }";
    expect(keyOf(shared, { since: "1" })).not.toBe(keyOf(shared, { since: "2" }));
    const other =
      "subscription ($since: String, $x: Boolean!) { events(since: $since) { seq @include(if: $x) } }";
    expect(keyOf(other, { since: "1", x: true })).not.toBe(keyOf(other, { since: "1", x: false }));
    expect(keyOf(other, { since: "1", x: true })).toBe(keyOf(other, { since: "2", x: true }));
  });

  it("separates documents and operation names", () => {
    expect(keyOf("subscription { events { seq } }")).not.toBe(
      keyOf("subscription { events { seq event { __typename } } }"),
    );
    const two = "subscription A { events { seq } } subscription B { events { seq } }";
    expect(keyOf(two, {}, "A")).not.toBe(keyOf(two, {}, "B"));
  });
});
