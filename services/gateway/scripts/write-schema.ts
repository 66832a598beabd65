// Prints the executable schema to services/gateway/schema.graphql; with --check, fails when the committed file drifted.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { lexicographicSortSchema, printSchema } from "graphql";
import { createGatewaySchema } from "../src/gateway.schema.ts";

const target = fileURLToPath(new URL("../schema.graphql", import.meta.url));
const printed = `${printSchema(lexicographicSortSchema(createGatewaySchema()))}\n`;
if (process.argv.includes("--check")) {
  let committed = "";
  try {
    committed = readFileSync(target, "utf8");
  } catch {}
  if (committed !== printed) {
    process.stderr.write(
      "services/gateway/schema.graphql is out of date: run `npm run schema:write` and commit it\n",
    );
    process.exit(1);
  }
  process.stdout.write("schema.graphql is up to date\n");
} else {
  writeFileSync(target, printed);
  process.stdout.write(`wrote ${target}\n`);
}
