import type { CallerAuthenticator } from "@beep/auth";
import { ReactionsService as ReactionsServiceDesc } from "@beep/proto/gen/beep/messages/v1/reactions_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { ReactionsService } from "./reactions.service.ts";

/** The Connect implementation of `beep.messages.v1.ReactionsService`. */
export function reactionsRoutes(
  reactions: ReactionsService,
  callers: CallerAuthenticator,
): ServiceImpl<typeof ReactionsServiceDesc> {
  return {
    async addReaction(request, context) {
      const { userId } = await callers.authenticate(context);
      const list = await reactions.add(userId, request.messageId, request.emoji);
      return { messageId: request.messageId, reactions: list };
    },
    async removeReaction(request, context) {
      const { userId } = await callers.authenticate(context);
      const list = await reactions.remove(userId, request.messageId, request.emoji);
      return { messageId: request.messageId, reactions: list };
    },
    async listReactions(request, context) {
      const { userId } = await callers.authenticate(context);
      const found = await reactions.summaries(userId, request.messageIds);
      return { messages: [...found].map(([messageId, list]) => ({ messageId, reactions: list })) };
    },
    async listReactionUsers(request, context) {
      const { userId } = await callers.authenticate(context);
      return reactions.users(userId, request);
    },
  };
}

export { ReactionsServiceDesc };
