import { promises as fs } from "node:fs";

// Linux /proc probes used to tell a live PostgreSQL from a stale pid file, a zombie or an orphan.
// Where /proc is missing they answer conservatively (assume alive / assume it is the server).

/** Alive and not a zombie; zombies stay signalable until reaped, which is not our job. */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  const stat = await readOptional(`/proc/${pid}/stat`);
  if (stat === undefined) return true;
  return statField(stat, 0) !== "Z";
}

/** A process that exited but was not reaped by its parent yet. */
export async function isZombie(pid: number): Promise<boolean> {
  const stat = await readOptional(`/proc/${pid}/stat`);
  return stat !== undefined && statField(stat, 0) === "Z";
}

/** Parent pid from /proc; undefined where /proc is unavailable. */
export async function parentPid(pid: number): Promise<number | undefined> {
  const stat = await readOptional(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  const ppid = Number.parseInt(statField(stat, 1) ?? "", 10);
  return Number.isSafeInteger(ppid) ? ppid : undefined;
}

/** Fields of /proc/<pid>/stat after the parenthesised command name (which may contain spaces). */
function statField(stat: string, index: number): string | undefined {
  return stat
    .slice(stat.lastIndexOf(")") + 2)
    .split(" ")
    .at(index);
}

/** Without /proc (not Linux) we cannot tell, so we assume it is the server, which is the safe answer. */
export async function isPostmasterOf(pid: number, dataDir: string): Promise<boolean> {
  const cmdline = await readOptional(`/proc/${pid}/cmdline`);
  if (cmdline === undefined) return true;
  const args = cmdline.split("\0");
  return (args[0] ?? "").endsWith("postgres") && args.includes(dataDir);
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
