import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "@beep/db";
import { BeepProcess, freePort } from "./beep-process.ts";

/** A running Beep deployment the scenarios talk to through the gateway. */
export interface Topology {
  readonly kind: "all" | "split";
  /** The gateway's base URL (http://127.0.0.1:port). */
  readonly gatewayUrl: string;
  /** Every process, by name (`beep`, or `users` and `gateway`). */
  readonly processes: Map<string, BeepProcess>;
  stop(): Promise<void>;
}

/** `users.maxPictureBytes` of every test deployment: small, so over-limit uploads stay cheap. */
export const TEST_MAX_PICTURE_BYTES = 64 * 1024;

const NATS_URL = process.env.BEEP_TEST_NATS_URL ?? "nats://127.0.0.1:4222";

/** `beep --target=all` on embedded defaults: embedded PostgreSQL, memory bus, file blobs. */
export async function startAllInOne(): Promise<Topology> {
  const dir = mkdtempSync(join(tmpdir(), "beep-it-all-"));
  // Running as root, the embedded server runs as user postgres, which must traverse the temp dir.
  chmodSync(dir, 0o755);
  const beep = new BeepProcess("beep", await freePort(), ["--target=all"], {
    BEEP_ENV: "test",
    BEEP_DATABASE_EMBEDDED_DIR: join(dir, "postgres"),
    BEEP_DATABASE_EMBEDDED_PORT: String(await freePort()),
    BEEP_BLOB_URL: `file://${join(dir, "blobs")}`,
    BEEP_AUTH_ARGON2_MEMORY_KIB: "8192",
    BEEP_AUTH_ARGON2_ITERATIONS: "1",
    BEEP_USERS_MAX_PICTURE_BYTES: String(TEST_MAX_PICTURE_BYTES),
  });
  await beep.start(120_000);
  return {
    kind: "all",
    gatewayUrl: beep.url,
    processes: new Map([["beep", beep]]),
    async stop() {
      await beep.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `users` and `gateway` as separate processes over gRPC + NATS + the machine's PostgreSQL. */
export async function startSplit(): Promise<Topology> {
  const database: TestDatabase = await createTestDatabase();
  const prefix = `it${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const common = {
    BEEP_ENV: "test",
    BEEP_BUS_URL: NATS_URL,
    BEEP_BUS_PREFIX: prefix,
    BEEP_AUTH_ARGON2_MEMORY_KIB: "8192",
    BEEP_AUTH_ARGON2_ITERATIONS: "1",
    BEEP_USERS_MAX_PICTURE_BYTES: String(TEST_MAX_PICTURE_BYTES),
  };
  const blobDir = mkdtempSync(join(tmpdir(), "beep-it-split-blobs-"));
  const usersPort = await freePort();
  const users = new BeepProcess("users", usersPort, ["--target=users"], {
    ...common,
    BEEP_DATABASE_URL: database.url,
    BEEP_BLOB_URL: `file://${blobDir}`,
  });
  const gateway = new BeepProcess("gateway", await freePort(), ["--target=gateway"], {
    ...common,
    BEEP_RPC_PEERS: `users=http://127.0.0.1:${usersPort}`,
  });
  await users.start();
  await gateway.start();
  return {
    kind: "split",
    gatewayUrl: gateway.url,
    processes: new Map([
      ["users", users],
      ["gateway", gateway],
    ]),
    async stop() {
      await gateway.stop();
      await users.stop();
      await database.drop();
      rmSync(blobDir, { recursive: true, force: true });
    },
  };
}
