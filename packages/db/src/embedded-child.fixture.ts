// Runs in a child process for the embedded-postgres tests: opens the embedded database in argv[2]
// on port argv[3], writes one row, prints {"ready":true,"pid":…} and stays alive until killed.
import { sql } from "kysely";
import { openDatabase } from "./database.factory.ts";
import { testLogger } from "./db-test.fixture.ts";

const [dataDir, port] = process.argv.slice(2);
if (!dataDir || !port) throw new Error("usage: embedded-child.fixture.ts <dataDir> <port>");
const handle = await openDatabase({
  embedded: { dataDir, port: Number(port) },
  poolSize: 2,
  logger: testLogger(),
});
await sql`create table if not exists public.child_marks (pid integer not null)`.execute(handle.db);
await sql`insert into public.child_marks (pid) values (${process.pid})`.execute(handle.db);
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
// Like the kernel: SIGTERM closes the handle (stopping PostgreSQL) before exiting. Without this the
// server would outlive the process, since openDatabase leaves signal handling to the application.
process.once("SIGTERM", () => {
  void handle.close().finally(() => process.exit(0));
});
setInterval(() => undefined, 60_000);
