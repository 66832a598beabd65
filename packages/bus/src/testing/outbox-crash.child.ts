// Child process for the outbox crash test: commits a state change and its
// event, then hangs at a chosen point so the parent can SIGKILL it there.
//   BEEP_CRASH_MODE=commit   → hang right after commit (relay never ran)
//   BEEP_CRASH_MODE=publish  → run a relay, hang after publish, before delete
import { createLogger } from "@beep/observability";
import { sql } from "kysely";
import type { Bus } from "../bus.ts";
import { openBus } from "../open-bus.ts";
import { OutboxRelay } from "../outbox.relay.ts";
import { writeOutbox } from "../outbox-write.ts";
import { openTestKysely } from "./test-database.ts";

const env = (key: string): string => {
  const value = process.env[key];
  if (!value) throw new Error(`${key} is required`);
  return value;
};
const schema = env("BEEP_CRASH_SCHEMA");
const mode = env("BEEP_CRASH_MODE");
const logger = createLogger({ service: "outbox-crash-child", level: "silent" });
const db = openTestKysely<unknown>(env("BEEP_CRASH_DB_URL"));

const [event] = await db.transaction().execute(async (trx) => {
  await sql`insert into ${sql.id(schema, "items")} (name) values ('from-child')`.execute(trx);
  return writeOutbox(trx, schema, [{ type: "item.created", payload: { name: "from-child" } }]);
});
process.stdout.write(`committed ${event!.id}\n`);

if (mode === "publish") {
  const real = await openBus(env("BEEP_CRASH_NATS_URL"), {
    logger,
    name: "crash-child",
    prefix: env("BEEP_CRASH_PREFIX"),
    duplicateWindowMs: 100,
  });
  const hanging: Bus = {
    distributed: true,
    consume: (g, p, h) => real.consume(g, p, h),
    subscribe: (p, h) => real.subscribe(p, h),
    follow: (p, h) => real.follow(p, h),
    broadcast: (e) => real.broadcast(e),
    subscribeEphemeral: (p, h) => real.subscribeEphemeral(p, h),
    close: () => real.close(),
    ping: () => real.ping(),
    async publish(e) {
      await real.publish(e);
      process.stdout.write(`published ${e.id}\n`);
      // Never resolve: the relay cannot delete the row before the parent kills us.
      await new Promise(() => {});
    },
  };
  void new OutboxRelay({ db, schema, bus: hanging, logger }).flush();
}
setInterval(() => {}, 60_000);
