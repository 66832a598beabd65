import type { ValidationRule } from "graphql";
import { createSchema, createYoga, type Plugin } from "graphql-yoga";
import { describe, expect, it } from "vitest";
import { useValidationCache } from "./validation-cache.ts";

const countingPlugin = (rule: ValidationRule): Plugin => ({
  onValidate: ({ addValidationRule }) => addValidationRule(rule),
});

function server() {
  let ruleRuns = 0;
  const counting: ValidationRule = () => {
    ruleRuns += 1;
    return {};
  };
  const yoga = createYoga({
    schema: createSchema({
      typeDefs: "type Query { hello: String }",
      resolvers: { Query: { hello: () => "hi" } },
    }),
    parserAndValidationCache: { validationCache: false },
    plugins: [countingPlugin(counting), useValidationCache()],
  });
  const post = async (query: string) => {
    const response = await yoga.fetch("http://localhost/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
      body: JSON.stringify({ query }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return { post, runs: () => ruleRuns };
}

describe("validation cache", () => {
  it("validates a query text once, and answers its later requests the same", async () => {
    const { post, runs } = server();
    expect(await post("{ hello }")).toEqual({ status: 200, body: { data: { hello: "hi" } } });
    expect(await post("{ hello }")).toEqual({ status: 200, body: { data: { hello: "hi" } } });
    expect(runs()).toBe(1);
    const invalid = await post("{ nope }");
    expect(invalid.status).toBe(400);
    expect(await post("{ nope }")).toEqual(invalid);
    expect(runs()).toBe(2);
  });
});
