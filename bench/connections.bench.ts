import { type BenchDeployment, gql, rssOf } from "./lib/beep-deployment.ts";
import { sleep } from "./lib/stats.ts";
import type { StreamClients } from "./lib/stream-clients.ts";

const UPDATE_SERVER = `mutation ($input: UpdateServerInput!) { updateServer(input: $input) { server { id } } }`;

/** Figures of the held-connections bench. */
export interface ConnectionsFigures {
  attempted: number;
  held: number;
  rssBeforeBytes: number;
  /** V8 heap in use per connection (live objects plus garbage not yet collected). */
  heapBytesPerConnection: number;
  rssAfterBytes: number;
  bytesPerConnection: number;
  projected50kBytes: number;
}

/**
 * Idle authenticated `events` subscriptions held by one Beep process (all-in-one: the gateway plus the
 * services it calls), each from its own user, all members of one server. The RSS delta per connection is
 * measured after the connections settle; 50,000 is a projection from it, because one process may not open
 * more than 20,000 files in this sandbox.
 */
export async function benchConnections(
  beep: BenchDeployment,
  clients: StreamClients,
  count: number,
  settleSeconds = 20,
): Promise<ConnectionsFigures> {
  const owner = await beep.signedInUser("held");
  const { serverId } = await beep.server(owner, "held");
  const users = await beep.bulkUsers(owner, count);
  await beep.bulkJoin(serverId, users);
  await gql(beep.url, UPDATE_SERVER, { input: { serverId, description: "held" } }, owner.token);
  // Warm the stream path with a few connections, so code loading and caches are not counted per connection.
  await clients.connect(beep.url, [owner.token], true);
  await sleep(2_000);
  const rssBeforeBytes = await rssOf(beep.pid);
  const heapBefore = await heapUsed(beep.url);
  const held = await clients.connect(
    beep.url,
    users.map((user) => user.token),
    true,
  );
  // The lowest reading over `settleSeconds`: garbage of the connection burst is collected by then, and
  // V8's memory reducer runs once allocation stops (no GC can be forced from outside the process).
  let rssAfterBytes = Number.POSITIVE_INFINITY;
  let heapAfter = Number.POSITIVE_INFINITY;
  for (let waited = 0; waited < settleSeconds; waited += 2) {
    await sleep(2_000);
    rssAfterBytes = Math.min(rssAfterBytes, await rssOf(beep.pid));
    heapAfter = Math.min(heapAfter, await heapUsed(beep.url));
  }
  const bytesPerConnection = (rssAfterBytes - rssBeforeBytes) / held;
  await clients.disconnect();
  return {
    attempted: count,
    held,
    rssBeforeBytes,
    heapBytesPerConnection: (heapAfter - heapBefore) / held,
    rssAfterBytes,
    bytesPerConnection,
    projected50kBytes: rssBeforeBytes + 50_000 * bytesPerConnection,
  };
}

/** `nodejs_heap_size_used_bytes` from the process's /metrics. */
async function heapUsed(url: string): Promise<number> {
  const body = await (await fetch(`${url}/metrics`)).text();
  const line = body.split("\n").find((l) => l.startsWith("nodejs_heap_size_used_bytes"));
  return Number(line?.slice(line.lastIndexOf(" ") + 1) ?? 0);
}
