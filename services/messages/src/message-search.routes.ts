import type { CallerAuthenticator } from "@beep/auth";
import { MessageSearchService as MessageSearchServiceDesc } from "@beep/proto/gen/beep/messages/v1/message_search_pb.ts";
import { UserDirectoryService } from "@beep/proto/gen/beep/users/v1/user_directory_pb.ts";
import type { ClientFactory } from "@beep/rpc";
import type { ServiceImpl } from "@connectrpc/connect";
import type { MessageSearchService } from "./message-search.ts";
import { protoMessage } from "./messages.routes.ts";

/** The Connect implementation of `beep.messages.v1.MessageSearchService`. */
export function messageSearchRoutes(
  search: MessageSearchService,
  callers: CallerAuthenticator,
  clients: ClientFactory,
): ServiceImpl<typeof MessageSearchServiceDesc> {
  const users = clients.client(UserDirectoryService);
  return {
    async searchMessages(request, context) {
      const { userId, authorization } = await callers.authenticate(context);
      const page = await search.search(
        {
          userId,
          // Why the caller's token: from:username lookups act for the searcher.
          findUsers: async (usernames) =>
            (await users.findUsersByUsername({ usernames: [...usernames] }, { headers: { authorization } }))
              .users,
        },
        {
          serverId: request.serverId,
          query: request.query,
          channelId: request.channelId,
          authorId: request.authorId,
          has: request.has,
          sentBefore: request.sentBefore,
          sentAfter: request.sentAfter,
          sort: request.sort,
          first: request.first,
          after: request.after,
        },
      );
      return {
        messages: page.messages.map(protoMessage),
        totalHits: page.totalHits,
        totalHitsCapped: page.totalHitsCapped,
        endCursor: page.endCursor ?? "",
        hasMore: page.hasMore,
      };
    },
  };
}

export { MessageSearchServiceDesc };
