import type { CallerAuthenticator } from "@beep/auth";
import { ReadStateService as ReadStateServiceDesc } from "@beep/proto/gen/beep/messages/v1/read_state_pb.ts";
import type { ClientFactory } from "@beep/rpc";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { ReadStateCaller, ReadStatesService, ReadStateView } from "./read-states.service.ts";
import { serversMemberDirectory } from "./servers-member-directory.ts";

/** The proto form of a read state (empty string for no position). */
export function protoReadState(view: ReadStateView) {
  return { ...view, lastReadMessageId: view.lastReadMessageId ?? "" };
}

/** The Connect implementation of `beep.messages.v1.ReadStateService`. */
export function readStatesRoutes(
  readStates: ReadStatesService,
  callers: CallerAuthenticator,
  clients: ClientFactory,
  internalToken: string,
): ServiceImpl<typeof ReadStateServiceDesc> {
  const caller = async (context: HandlerContext): Promise<ReadStateCaller> => {
    const { userId, authorization } = await callers.authenticate(context);
    return { userId, members: serversMemberDirectory(clients, userId, authorization, internalToken) };
  };
  return {
    async markChannelRead(request, context) {
      const view = await readStates.markRead(await caller(context), request.channelId, request.messageId);
      return { readState: protoReadState(view) };
    },
    async listReadStates(request, context) {
      const views = await readStates.list(await caller(context), request.serverId);
      return { readStates: views.map(protoReadState) };
    },
  };
}

export { ReadStateServiceDesc };
