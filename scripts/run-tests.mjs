#!/usr/bin/env node
// Runs the whole vitest suite and ends with a plain "N passed, N failed" line,
// which CI reads (it does not recognise vitest's own summary).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";

const report = ".vitest-report.json";
rmSync(report, { force: true });
const result = spawnSync(
  "npx",
  [
    "vitest",
    "run",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${report}`,
    ...process.argv.slice(2),
  ],
  { stdio: "inherit" },
);
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const summary = JSON.parse(readFileSync(report, "utf8"));
  passed = summary.numPassedTests ?? 0;
  failed =
    (summary.numFailedTests ?? 0) +
    (summary.testResults ?? []).filter(
      (file) => file.status === "failed" && file.assertionResults.length === 0,
    ).length;
  skipped = (summary.numPendingTests ?? 0) + (summary.numTodoTests ?? 0);
} else {
  failed = 1;
}
if (result.status !== 0 && failed === 0) failed = 1;
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
process.exit(result.status === 0 && failed === 0 ? 0 : 1);
