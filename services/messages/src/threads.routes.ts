import type { CallerAuthenticator } from "@beep/auth";
import { ThreadsService as ThreadsServiceDesc } from "@beep/proto/gen/beep/messages/v1/threads_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { ThreadsService, ThreadView } from "./threads.service.ts";

/** The proto form of a thread (empty string for no last message). */
export function protoThread(view: ThreadView) {
  return { ...view, lastMessageAt: view.lastMessageAt ?? "" };
}

/** The Connect implementation of `beep.messages.v1.ThreadsService`. */
export function threadsRoutes(
  threads: ThreadsService,
  callers: CallerAuthenticator,
): ServiceImpl<typeof ThreadsServiceDesc> {
  return {
    async startThread(request, context) {
      const { userId } = await callers.authenticate(context);
      return { thread: protoThread(await threads.start(userId, request.messageId, request.name)) };
    },
    async listThreads(request, context) {
      const { userId } = await callers.authenticate(context);
      return { threads: (await threads.list(userId, request.channelId)).map(protoThread) };
    },
    async renameThread(request, context) {
      const { userId } = await callers.authenticate(context);
      return { thread: protoThread(await threads.rename(userId, request.threadId, request.name)) };
    },
    async listMessageThreads(request, context) {
      const { userId } = await callers.authenticate(context);
      return { threads: (await threads.ofMessages(userId, request.messageIds)).map(protoThread) };
    },
  };
}

export { ThreadsServiceDesc };
