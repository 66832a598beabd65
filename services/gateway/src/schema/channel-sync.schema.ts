import { ServersService } from "@beep/proto/gen/beep/servers/v1/servers_pb.ts";
import type { GatewayContext } from "../gateway.context.ts";
import { asViewer, type SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  "Input of syncChannelPermissions."
  input SyncChannelPermissionsInput {
    "A channel in a folder."
    channelId: ID!
  }

  type Mutation {
    "Makes a channel in a folder take the folder's overwrites again and follow them (MANAGE_ROLES; only bits the viewer has). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT (not in a folder)."
    syncChannelPermissions(input: SyncChannelPermissionsInput!): ChannelPayload!
  }
`;

/** Folder-synced overwrites (Discord's sync model). */
export const channelSyncSchema: SchemaModule = {
  typeDefs,
  resolvers: {
    Mutation: {
      syncChannelPermissions: (
        _root: unknown,
        { input }: { input: { channelId: string } },
        context: GatewayContext,
      ) => context.clients.client(ServersService).syncChannelPermissions(input, asViewer(context)),
    },
  },
};
