import { ServerPicturesService } from "@beep/proto/gen/beep/servers/v1/server_pictures_pb.ts";
import type { GatewayContext } from "../gateway.context.ts";
import { serverPicturePath } from "../server-pictures.edge.ts";
import { asViewer, type SchemaModule } from "./schema-module.ts";

const typeDefs = /* GraphQL */ `
  "Which image of a server."
  enum ServerPictureKind {
    "The square picture (icon)."
    PICTURE
    "The wide banner."
    BANNER
  }

  type Server {
    "Path of the picture (GET it with the bearer token; PUT the raw bytes there to upload, MANAGE_GUILD); null when there is none."
    pictureUrl: String
    "Path of the banner, like pictureUrl; null when there is none."
    bannerUrl: String
  }

  "Input of removeServerPicture."
  input RemoveServerPictureInput {
    "The server."
    serverId: ID!
    "Picture or banner."
    kind: ServerPictureKind!
  }

  type Mutation {
    "Removes a server's picture or banner (MANAGE_GUILD); a no-op when there is none. Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN."
    removeServerPicture(input: RemoveServerPictureInput!): ServerPayload!
  }
`;

type ServerParent = { id: string; pictureVersion?: string; bannerVersion?: string };

/** A server's picture and banner (SRV-1); the bytes go through the /servers/ REST edge. */
export const serverPicturesSchema: SchemaModule = {
  typeDefs,
  resolvers: {
    ServerPictureKind: { PICTURE: "picture", BANNER: "banner" },
    Server: {
      pictureUrl: (server: ServerParent) =>
        server.pictureVersion ? serverPicturePath(server.id, "picture", server.pictureVersion) : null,
      bannerUrl: (server: ServerParent) =>
        server.bannerVersion ? serverPicturePath(server.id, "banner", server.bannerVersion) : null,
    },
    Mutation: {
      removeServerPicture: (
        _root: unknown,
        { input }: { input: { serverId: string; kind: string } },
        context: GatewayContext,
      ) => context.clients.client(ServerPicturesService).removeServerPicture(input, asViewer(context)),
    },
  },
};
