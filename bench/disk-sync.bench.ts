import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { percentile } from "./lib/stats.ts";

/** Figures of {@link benchDiskSync}. */
export interface DiskSyncFigures {
  directory: string;
  syncs: number;
  p50Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Syncs that took longer than 50 ms (the latency target), per minute. */
  stallsPerMinute: number;
}

/**
 * How long the disk takes to make 8 KiB durable (write + fdatasync, as PostgreSQL does for a commit's WAL),
 * over `seconds`. Why in the report: a durable send waits for one such flush while its channel's lock is
 * held, so every disk stall delays every send queued behind it — the send→deliver p99 cannot be lower than
 * what the disk allows. Measured on the temporary directory's disk, which on a one-disk machine is the
 * database's too.
 */
export function benchDiskSync(seconds: number): DiskSyncFigures {
  const directory = mkdtempSync(join(tmpdir(), "beep-bench-sync-"));
  const fd = openSync(join(directory, "probe"), "w");
  const page = Buffer.alloc(8192, 120);
  const samples: number[] = [];
  try {
    const end = performance.now() + seconds * 1000;
    for (let i = 0; performance.now() < end; i++) {
      writeSync(fd, page, 0, page.length, (i % 2048) * page.length);
      const began = performance.now();
      fdatasyncSync(fd);
      samples.push(performance.now() - began);
    }
  } finally {
    closeSync(fd);
    rmSync(directory, { recursive: true, force: true });
  }
  const stalls = samples.filter((ms) => ms > 50).length;
  return {
    directory: tmpdir(),
    syncs: samples.length,
    p50Ms: percentile(samples, 0.5),
    p999Ms: percentile(samples, 0.999),
    maxMs: percentile(samples, 1),
    stallsPerMinute: (stalls / seconds) * 60,
  };
}
