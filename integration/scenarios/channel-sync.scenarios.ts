import { describe, expect, it } from "vitest";
import { dataOf, graphql } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const VIEW_CHANNEL = String(1n << 10n);
const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id } } }`;
const JOIN = `mutation ($input: ServerIdInput!) { joinServer(input: $input) { server { id } } }`;
const CHANNEL_FIELDS = `id parentId permissionsSynced overwrites { targetType targetId allow deny }`;
const CREATE_CHANNEL = `mutation ($input: CreateChannelInput!) { createChannel(input: $input) { channel { ${CHANNEL_FIELDS} } } }`;
const UPDATE_CHANNEL = `mutation ($input: UpdateChannelInput!) { updateChannel(input: $input) { channel { ${CHANNEL_FIELDS} } } }`;
const SET_OVERWRITE = `mutation ($input: SetChannelOverwriteInput!) { setChannelOverwrite(input: $input) { channel { ${CHANNEL_FIELDS} } } }`;
const SYNC = `mutation ($input: SyncChannelPermissionsInput!) { syncChannelPermissions(input: $input) { channel { ${CHANNEL_FIELDS} } } }`;
const CHANNELS = `query ($id: ID!) { server(id: $id) { channels { ${CHANNEL_FIELDS} } } }`;

type Channel = {
  id: string;
  parentId: string | null;
  permissionsSynced: boolean;
  overwrites: Array<{ targetType: string; targetId: string; allow: string; deny: string }>;
};

/** Folder-synced overwrites (Discord's sync model) through the gateway, in every topology. */
export function defineChannelSyncScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;

  describe("folder-synced overwrites", () => {
    it("children follow the folder until edited, moves keep overwrites unless synced, and resync works", async () => {
      const owner = await signedInUser(url());
      const member = await signedInUser(url());
      const serverId = dataOf(
        await graphql<{ createServer: { server: { id: string } } }>(
          url(),
          CREATE_SERVER,
          { input: { name: "Synced", public: true } },
          owner.accessToken,
        ),
      ).createServer.server.id;
      dataOf(await graphql(url(), JOIN, { input: { serverId } }, member.accessToken));
      const run = async <K extends string>(key: K, query: string, input: Record<string, unknown>) =>
        (
          dataOf(
            await graphql<Record<K, { channel: Channel }>>(url(), query, { input }, owner.accessToken),
          ) as Record<K, { channel: Channel }>
        )[key].channel;
      const folder = await run("createChannel", CREATE_CHANNEL, { serverId, name: "staff", type: "FOLDER" });
      await run("setChannelOverwrite", SET_OVERWRITE, {
        channelId: folder.id,
        targetType: "ROLE",
        targetId: serverId,
        deny: VIEW_CHANNEL,
      });
      const child = await run("createChannel", CREATE_CHANNEL, {
        serverId,
        name: "inside",
        parentId: folder.id,
      });
      expect(child.permissionsSynced).toBe(true);
      expect(child.overwrites).toEqual([
        { targetType: "ROLE", targetId: serverId, allow: "0", deny: VIEW_CHANNEL },
      ]);
      const visible = async () =>
        dataOf(
          await graphql<{ server: { channels: Channel[] } }>(
            url(),
            CHANNELS,
            { id: serverId },
            member.accessToken,
          ),
        ).server.channels.map((c) => c.id);
      expect(await visible()).not.toContain(child.id);

      // The folder's edit reaches the synced child: the member now sees both.
      await run("setChannelOverwrite", SET_OVERWRITE, {
        channelId: folder.id,
        targetType: "MEMBER",
        targetId: member.user.id,
        allow: VIEW_CHANNEL,
      });
      expect(await visible()).toEqual(expect.arrayContaining([folder.id, child.id]));

      // Editing the child unsyncs it.
      const edited = await run("setChannelOverwrite", SET_OVERWRITE, {
        channelId: child.id,
        targetType: "MEMBER",
        targetId: member.user.id,
        deny: VIEW_CHANNEL,
      });
      expect(edited.permissionsSynced).toBe(false);
      expect(await visible()).not.toContain(child.id);
      const resynced = await run("syncChannelPermissions", SYNC, { channelId: child.id });
      expect(resynced.permissionsSynced).toBe(true);
      expect(await visible()).toContain(child.id);

      // A top-level channel moved in keeps its own overwrites, unless syncPermissions is passed.
      const top = await run("createChannel", CREATE_CHANNEL, { serverId, name: "top" });
      const moved = await run("updateChannel", UPDATE_CHANNEL, { channelId: top.id, parentId: folder.id });
      expect(moved).toMatchObject({ parentId: folder.id, permissionsSynced: false, overwrites: [] });
      const synced = await run("updateChannel", UPDATE_CHANNEL, { channelId: top.id, syncPermissions: true });
      expect(synced.permissionsSynced).toBe(true);
      expect(synced.overwrites).toHaveLength(2);

      const refused = await graphql(url(), SYNC, { input: { channelId: child.id } }, member.accessToken);
      expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    });
  });
}
