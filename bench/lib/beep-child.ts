import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = `${ROOT}apps/beep/src/main.ts`;
/**
 * The Node flags of `npm start` (package.json: `node <flags> --import tsx …`), read from there so the
 * bench measures Beep as it runs and the two cannot drift (docs/SERVICES.md says why those flags).
 */
const SERVER_NODE_FLAGS = (() => {
  const start = (
    JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as { scripts: { start: string } }
  ).scripts.start.split(" ");
  return start.slice(start.indexOf("node") + 1, start.indexOf("--import"));
})();

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/**
 * One `beep` child process (like integration/harness/beep-process.ts, plus
 * its pid for RSS readings and optional extra node flags for profiling).
 */
export class BeepChild {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stderr = "";

  constructor(
    readonly port: number,
    private readonly args: string[],
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  async start(timeoutMs: number): Promise<void> {
    // BEEP_BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server side of a run.
    const nodeFlags = (process.env.BEEP_BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean);
    const child = spawn(
      process.execPath,
      [...SERVER_NODE_FLAGS, ...nodeFlags, "--import", "tsx", MAIN, ...this.args],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "/root",
          ...this.env,
          BEEP_HTTP_PORT: String(this.port),
        },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    this.child = child;
    child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString("utf8")).slice(-20_000);
    });
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`beep exited with ${child.exitCode}:\n${this.stderr}`);
      try {
        if ((await fetch(`${this.url}/readyz`)).status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`beep not ready after ${timeoutMs} ms:\n${this.stderr}`);
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    await this.exited;
  }
}
