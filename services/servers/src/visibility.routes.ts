import { VisibilityService as VisibilityServiceDesc } from "@beep/proto/gen/beep/servers/v1/visibility_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { InternalCallerGuard } from "./internal-caller.ts";
import type { VisibilityService } from "./visibility.service.ts";

/** The Connect implementation of `beep.servers.v1.VisibilityService` (internal token only). */
export function visibilityRoutes(
  visibility: VisibilityService,
  internal: InternalCallerGuard,
): ServiceImpl<typeof VisibilityServiceDesc> {
  return {
    async visibleChannels(request, context) {
      internal.require(context.requestHeader);
      return { users: await visibility.visibleChannels(request.userIds, request.fresh) };
    },
  };
}

export { VisibilityServiceDesc };
