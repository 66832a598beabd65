import { readFileSync } from "node:fs";
import {
  isInputObjectType,
  isIntrospectionType,
  isObjectType,
  lexicographicSortSchema,
  printSchema,
} from "graphql";
import { describe, expect, it } from "vitest";
import { createGatewaySchema } from "./gateway.schema.ts";

describe("public schema", () => {
  const schema = createGatewaySchema();

  it("matches the committed schema.graphql (run npm run schema:write after changing it)", () => {
    const committed = readFileSync(new URL("../schema.graphql", import.meta.url), "utf8");
    expect(`${printSchema(lexicographicSortSchema(schema))}\n`).toBe(committed);
  });

  it("documents every type, field and argument (api.md)", () => {
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (
        isIntrospectionType(type) ||
        type.name.startsWith("__") ||
        ["String", "Boolean", "ID", "Int", "Float"].includes(type.name)
      )
        continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
