import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";

/** What the disk did while a bench phase ran. */
export interface DiskStalls {
  /** Flushes made (one every few ms). */
  syncs: number;
  /** Flushes that took longer than 50 ms (the latency target). */
  stalls: number;
  maxMs: number;
}

// Plain JS for the worker (eval): it flushes 8 KiB every 5 ms until told to stop, then posts its counts.
const PROBE = `
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const fd = fs.openSync(workerData.file, "w");
const page = Buffer.alloc(8192, 120);
let syncs = 0, stalls = 0, maxMs = 0, stopping = false;
parentPort.on("message", () => { stopping = true; });
function flushOnce() {
  if (stopping) {
    fs.closeSync(fd);
    parentPort.postMessage({ syncs, stalls, maxMs });
    return;
  }
  fs.writeSync(fd, page, 0, page.length, (syncs % 256) * page.length);
  const began = performance.now();
  fs.fdatasyncSync(fd);
  const ms = performance.now() - began;
  syncs++;
  if (ms > 50) stalls++;
  if (ms > maxMs) maxMs = ms;
  setTimeout(flushOnce, 5);
}
flushOnce();
`;

/**
 * Watches the disk during a bench phase: a worker thread makes 8 KiB durable (write + fdatasync, what a
 * commit's WAL flush does) every 5 ms, about 200 small flushes a second next to PostgreSQL's, and counts
 * those over 50 ms. Why: an acknowledged send waits for its commit's flush while its channel's lock is held,
 * so a disk stall delays every send queued behind it; a p99 read without the disk's stalls in the same
 * window cannot be told apart from Beep's own.
 */
export class DiskStallMonitor {
  private readonly directory = mkdtempSync(join(tmpdir(), "beep-bench-stalls-"));
  private readonly worker = new Worker(PROBE, {
    eval: true,
    workerData: { file: join(this.directory, "probe") },
  });

  async stop(): Promise<DiskStalls> {
    const report = new Promise<DiskStalls>((resolve) => this.worker.once("message", resolve));
    this.worker.postMessage("stop");
    try {
      return await report;
    } finally {
      await this.worker.terminate();
      rmSync(this.directory, { recursive: true, force: true });
    }
  }
}
