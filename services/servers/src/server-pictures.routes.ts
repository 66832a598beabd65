import type { CallerAuthenticator } from "@beep/auth";
import { ServerPicturesService as ServerPicturesServiceDesc } from "@beep/proto/gen/beep/servers/v1/server_pictures_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { ServerPicturesService } from "./server-pictures.service.ts";

/** The Connect implementation of `beep.servers.v1.ServerPicturesService`: authenticates, translates and delegates. */
export function serverPicturesRoutes(
  pictures: ServerPicturesService,
  callers: CallerAuthenticator,
): ServiceImpl<typeof ServerPicturesServiceDesc> {
  const as = (context: Parameters<CallerAuthenticator["authenticate"]>[0]) => callers.authenticate(context);
  return {
    async uploadServerPicture(request, context) {
      return { server: await pictures.upload(await as(context), request.serverId, request) };
    },
    async removeServerPicture(request, context) {
      return { server: await pictures.remove(await as(context), request.serverId, request.kind) };
    },
    async getServerPicture(request, context) {
      return pictures.get(await as(context), request.serverId, request.kind);
    },
  };
}

export { ServerPicturesServiceDesc };
