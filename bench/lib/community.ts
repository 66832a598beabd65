import { type BenchDeployment, type BenchUser, gql } from "./beep-deployment.ts";
import { sleep } from "./stats.ts";
import type { StreamClients } from "./stream-clients.ts";

const UPDATE_SERVER = `mutation ($input: UpdateServerInput!) { updateServer(input: $input) { server { id } } }`;

/** A public server with its owner and `members` bulk-created members, every one of them on the `events` stream. */
export interface Community {
  owner: BenchUser;
  members: BenchUser[];
  serverId: string;
  channelId: string;
  /** Sockets that subscribed. */
  connected: number;
}

export async function community(
  beep: BenchDeployment,
  clients: StreamClients,
  members: number,
  name: string,
): Promise<Community> {
  const owner = await beep.signedInUser("owner");
  const { serverId, channelId } = await beep.server(owner, name);
  const bulk = await beep.bulkUsers(owner, members);
  await beep.bulkJoin(serverId, bulk);
  // A write through the API after the bulk insert: its server.updated event drops every cached snapshot.
  await gql(
    beep.url,
    UPDATE_SERVER,
    { input: { serverId, description: `${members + 1} members` } },
    owner.token,
  );
  const connected = await clients.connect(
    beep.url,
    [owner, ...bulk].map((user) => user.token),
    true,
  );
  // Let the subscriptions finish resolving their audiences before traffic starts.
  await sleep(500);
  return { owner, members: bulk, serverId, channelId, connected };
}
