import { promises as fs } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { createLogger, type Logger } from "@beep/observability";

/** Quiet logger for tests: failures are asserted through errors, not log lines. */
export function testLogger(): Logger {
  return createLogger({ service: "db-test", level: process.env.BEEP_TEST_LOG_LEVEL ?? "silent" });
}

/** A port nobody listens on right now (the kernel picks it), for an embedded server under test. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/**
 * A fresh parent directory under os.tmpdir() for an embedded data dir. mkdtemp makes it 0700, which
 * user postgres cannot traverse, so it is opened up to 0755 (the refusal itself is tested separately).
 */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `beep-db-${prefix}-`));
  await fs.chmod(dir, 0o755);
  return dir;
}

/** Full URL (with password) of an embedded cluster, as an operator would build it to use psql. */
export async function embeddedAdminUrl(dataDir: string, port: number): Promise<string> {
  const password = (await fs.readFile(path.join(dataDir, "beep-superuser.password"), "utf8")).trim();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/beep`;
}
