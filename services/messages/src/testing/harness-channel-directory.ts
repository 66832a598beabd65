import type { ServersHarness } from "@beep/servers/testing";
import type { ChannelDirectory } from "../channel-access.ts";

/**
 * The messages service's view of servers in db tests: the real servers code of the harness, called
 * directly instead of over RPC. `onBitsLookup` counts permission lookups (cache tests).
 */
export function harnessChannelDirectory(
  harness: ServersHarness,
  onBitsLookup?: () => void,
): ChannelDirectory {
  return {
    async locate(channelId) {
      const [found] = await harness.directory().locate([channelId]);
      return found && found.serverId !== "" ? { serverId: found.serverId, type: found.type } : undefined;
    },
    async channelBits(userId, serverId, channelId) {
      onBitsLookup?.();
      const [row] = await harness.permissions().channelPermissions(userId, serverId, [channelId]);
      return row?.permissions ?? 0n;
    },
    resolveMentions: (query) => harness.directory().resolveMentions(query),
  };
}
