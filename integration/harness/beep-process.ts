import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = `${ROOT}apps/beep/src/main.ts`;

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

/** One running `beep` process, with its stdout lines kept for log assertions. */
export class BeepProcess {
  readonly lines: string[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly args: string[],
    private readonly env: Record<string, string>,
  ) {}

  /** Base URL of the process's listener. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Spawns the process and waits until `/readyz` answers 200. */
  async start(timeoutMs = 60_000): Promise<void> {
    // Why node --import tsx, not the tsx binary: tsx runs the script in a grandchild that SIGKILL would miss.
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...this.args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/root",
        ...this.env,
        BEEP_HTTP_PORT: String(this.port),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    let stderr = "";
    let partial = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      const parts = (partial + chunk.toString("utf8")).split("\n");
      partial = parts.pop() ?? "";
      this.lines.push(...parts.filter(Boolean));
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        throw new Error(
          `${this.name} exited with ${child.exitCode} during start-up:\n${stderr}\n${this.lines.slice(-20).join("\n")}`,
        );
      }
      try {
        const response = await fetch(`${this.url}/readyz`);
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(
      `${this.name} not ready after ${timeoutMs} ms:\n${stderr}\n${this.lines.slice(-20).join("\n")}`,
    );
  }

  /** Runs a one-shot CLI command (`beep keys rotate`…) with this process's environment. */
  run(args: string[]): Promise<{ code: number | null; output: string }> {
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    return new Promise((resolve) => child.once("exit", (code) => resolve({ code, output })));
  }

  /** Sends a signal and waits for the exit code. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null)
      return this.child?.exitCode ?? null;
    this.child.kill(signal);
    return this.exited;
  }
}
