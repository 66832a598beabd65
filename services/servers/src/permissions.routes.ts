import type { CallerAuthenticator } from "@beep/auth";
import { PermissionsService as PermissionsServiceDesc } from "@beep/proto/gen/beep/servers/v1/permissions_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { InternalCallerGuard } from "./internal-caller.ts";
import { permissionNames } from "./permissions/index.ts";
import type { PermissionsService } from "./permissions.service.ts";

/** The Connect implementation of `beep.servers.v1.PermissionsService`. */
export function permissionsRoutes(
  permissions: PermissionsService,
  callers: CallerAuthenticator,
  internal: InternalCallerGuard,
): ServiceImpl<typeof PermissionsServiceDesc> {
  return {
    async channelPermissions(request, context) {
      internal.require(context.requestHeader);
      const rows = await permissions.channelPermissions(request.userId, request.serverId, request.channelIds);
      return {
        channels: rows.map((row) => ({ channelId: row.channelId, permissions: String(row.permissions) })),
      };
    },
    async checkPermissions(request, context) {
      internal.require(context.requestHeader);
      const result = await permissions.check(
        request.userId,
        request.serverId,
        request.channelId,
        request.required,
      );
      return { allowed: result.allowed, permissions: String(result.permissions) };
    },
    async explainPermissions(request, context) {
      const caller = await callers.authenticate(context);
      const { userId, explanation } = await permissions.explain(
        caller,
        request.serverId,
        request.channelId,
        request.userId,
      );
      return {
        userId,
        permissions: String(explanation.permissions),
        permissionNames: permissionNames(explanation.permissions),
        steps: explanation.steps.map((step) => ({
          kind: step.kind,
          sourceId: step.source?.id ?? "",
          sourceName: step.source?.name ?? "",
          set: String(step.set),
          cleared: String(step.cleared),
          after: String(step.after),
          reason: step.reason,
          setNames: permissionNames(step.set),
          clearedNames: permissionNames(step.cleared),
        })),
      };
    },
    async dryRunOverwrite(request, context) {
      const result = await permissions.dryRunOverwrite(await callers.authenticate(context), request);
      return {
        changes: result.changes.map((change) => ({ ...change, bit: String(change.bit) })),
        membersChecked: result.membersChecked,
        truncated: result.truncated,
      };
    },
  };
}

export { PermissionsServiceDesc };
