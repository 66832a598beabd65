import { type SpawnOptions, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { createTestDatabase, type TestDatabase } from "@beep/db";
import { usersMigrations } from "@beep/users";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function beep(args: string[], env: Record<string, string> = {}, options: SpawnOptions = {}) {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    ...options,
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<Run>((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr })));
  return { child, done, output: () => stdout };
}

const run = (args: string[], env: Record<string, string> = {}) => beep(args, env).done;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

describe("beep CLI", () => {
  it("lists its targets", async () => {
    const result = await run(["--list-targets"]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual(["all", "gateway", "messages", "servers", "users"]);
  });

  it("prints every key's default, variable and doc, without secrets", async () => {
    const result = await run(["config", "defaults"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("http.port = 4000    (BEEP_HTTP_PORT)");
    expect(result.stdout).toContain("# PostgreSQL server URL");
  });

  it("stops on a bad value with a message naming the key and its source", async () => {
    const result = await run(["config", "check"], { BEEP_HTTP_PORT: "eighty" });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/http\.port \(environment BEEP_HTTP_PORT\)/);
  });

  it("masks secrets in config check", async () => {
    const result = await run(["config", "check"], { BEEP_DATABASE_URL: "postgres://beep:hunter2@db/beep" });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("database.url = [secret]");
    expect(result.stdout).not.toContain("hunter2");
  });

  it("refuses an unknown target, listing the valid ones", async () => {
    const result = await run(["--target=messagez"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'unknown target "messagez"; valid targets: all, gateway, messages, servers, users',
    );
  });

  it("refuses a memory bus when services are split across processes", async () => {
    const result = await run(["--target=gateway"], { BEEP_HTTP_PORT: String(await freePort()) });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/memory:\/\/.*split across processes/);
  });
});

describe("beep against a PostgreSQL server", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it("migrates once, then reports the schema up to date", async () => {
    const first = await run(["migrate"], { BEEP_DATABASE_URL: database.url });
    expect(first.code).toBe(0);
    // Why from the registry: each feature adds a migration; the test checks all of them ran, in order.
    expect(first.stdout).toContain(`"applied":${JSON.stringify(Object.keys(usersMigrations))}`);
    const second = await run(["migrate"], { BEEP_DATABASE_URL: database.url });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("schema up to date");
  });

  it("stops gracefully on SIGTERM: ready, then stopped, exit 0", async () => {
    const port = await freePort();
    const process = beep(["--target=users"], {
      BEEP_DATABASE_URL: database.url,
      BEEP_BUS_URL: "nats://127.0.0.1:4222",
      BEEP_BUS_PREFIX: `cli${port}`,
      BEEP_HTTP_PORT: String(port),
    });
    const deadline = Date.now() + 30_000;
    while (!process.output().includes("Beep is ready") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    process.child.kill("SIGTERM");
    const result = await process.done;
    expect(result.code).toBe(0);
    const messages = result.stdout
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { message: string }).message);
    expect(messages).toContain("stopping");
    expect(messages.at(-1)).toBe("stopped");
  });
});
