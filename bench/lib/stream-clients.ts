import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

const WORKER = fileURLToPath(new URL("./stream-clients.worker.ts", import.meta.url));

/** The `events` subscription every bench client holds (the fields a chat client shows). */
export const EVENTS_QUERY = `subscription { events { seq event { __typename
  ... on MessageCreated { message { id channelId authorId content createdAt } } } } }`;

/** Content of a bench message: its index (from 1) and the send time (epoch ms) the receivers subtract. */
export const benchContent = (index: number) => `bench ${index} ${performance.timeOrigin + performance.now()}`;

interface Report {
  received: number;
  receivedBytes: number;
  slowest: number;
  open: number;
  latencies: number[];
  frameSample: string;
}

/** One client process. */
class Worker {
  readonly child: ChildProcess;
  slowest = 0;
  private waiting = new Map<string, (message: Record<string, unknown>) => void>();

  constructor() {
    this.child = fork(WORKER, [], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.child.on("message", (message: Record<string, unknown>) => {
      if (message.type === "progress") {
        this.slowest = message.slowest as number;
      } else if (message.type === "log") {
        process.stderr.write(`  [client] ${message.text}\n`);
      } else {
        if (message.type === "report") this.slowest = message.slowest as number;
        this.waiting.get(message.type as string)?.(message);
      }
    });
  }

  ask<T>(command: Record<string, unknown>, answer: string): Promise<T> {
    return new Promise((resolve) => {
      this.waiting.set(answer, (message) => resolve(message as T));
      this.child.send(command);
    });
  }
}

/**
 * WebSocket clients spread over several child processes (the sandbox allows 20,000 open files per
 * process), each counting bench deliveries and their send→deliver latency.
 */
export class StreamClients {
  private readonly workers: Worker[];

  constructor(processes: number) {
    this.workers = Array.from({ length: processes }, () => new Worker());
  }

  /**
   * Opens one socket per token, spread evenly; graphql-ws with the `events` subscription when `graphqlWs`,
   * else bare WebSockets. Returns how many opened.
   */
  async connect(url: string, tokens: readonly string[], graphqlWs: boolean): Promise<number> {
    const share = Math.ceil(tokens.length / this.workers.length);
    const results = await Promise.all(
      this.workers.map((worker, i) =>
        worker.ask<{ ok: number; failures: Record<string, number> }>(
          {
            type: "connect",
            url: graphqlWs ? `${url.replace(/^http/, "ws")}/graphql` : url,
            tokens: tokens.slice(i * share, (i + 1) * share),
            concurrency: 50,
            ...(graphqlWs ? { protocol: "graphql-transport-ws", query: EVENTS_QUERY } : {}),
          },
          "connected",
        ),
      ),
    );
    const failures = results.flatMap((result) => Object.entries(result.failures));
    if (failures.length > 0)
      process.stderr.write(
        `  (sockets that did not open: ${failures.map(([why, n]) => `${n} × ${why}`).join(", ")})\n`,
      );
    return results.reduce((sum, result) => sum + result.ok, 0);
  }

  /** Zeroes the delivery counters and latency samples. */
  async reset(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.ask({ type: "reset" }, "reset")));
  }

  /** Deliveries, open sockets and latency samples since the last reset (samples since the last report). */
  async report(): Promise<{
    received: number;
    open: number;
    latencies: number[];
    frameSample: string;
    slowest: number;
  }> {
    const reports = await Promise.all(
      this.workers.map((worker) => worker.ask<Report>({ type: "report" }, "report")),
    );
    return {
      received: reports.reduce((sum, r) => sum + r.received, 0),
      open: reports.reduce((sum, r) => sum + r.open, 0),
      latencies: reports.flatMap((r) => r.latencies),
      frameSample: reports.find((r) => r.frameSample)?.frameSample ?? "",
      slowest: Math.min(...reports.map((r) => r.slowest)),
    };
  }

  /** The highest message index every socket has received (from the 20 ms progress reports). */
  slowest(): number {
    return Math.min(...this.workers.map((worker) => worker.slowest));
  }

  /** Closes the sockets (the processes stay for the next connect). */
  async disconnect(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.ask({ type: "close" }, "closed")));
  }

  async stop(): Promise<void> {
    for (const worker of this.workers) worker.child.kill();
  }
}
