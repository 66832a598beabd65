import type { CallerAuthenticator } from "@beep/auth";
import {
  type MessageSchema,
  MessagesService as MessagesServiceDesc,
} from "@beep/proto/gen/beep/messages/v1/messages_pb.ts";
import { UserDirectoryService } from "@beep/proto/gen/beep/users/v1/user_directory_pb.ts";
import type { ClientFactory } from "@beep/rpc";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { MessageRecord } from "./message-views.ts";
import type { MessagesCaller, MessagesService } from "./messages.service.ts";

/** The proto form of a message: empty strings for nulls, embeds as a JSON array. */
export function protoMessage(record: MessageRecord): MessageInitShape<typeof MessageSchema> {
  return {
    id: record.id,
    serverId: record.serverId,
    channelId: record.channelId,
    threadId: record.threadId ?? "",
    authorId: record.authorId,
    content: record.content,
    nonce: record.nonce ?? "",
    createdAt: record.createdAt,
    editedAt: record.editedAt ?? "",
    replyToId: record.replyToId ?? "",
    pinnedAt: record.pinnedAt ?? "",
    pinnedBy: record.pinnedBy ?? "",
    mentions: record.mentions,
    embedsJson: JSON.stringify(record.embeds),
    attachments: record.attachments.map((a) => ({
      id: a.id,
      filename: a.filename,
      contentType: a.contentType,
      size: BigInt(a.size),
      width: a.width ?? 0,
      height: a.height ?? 0,
      url: a.url,
      thumbnailUrl: a.thumbnailUrl ?? "",
    })),
    ...(record.replyTo && {
      replyTo: record.replyTo.deleted
        ? { id: record.replyTo.id, deleted: true, authorId: "", content: "" }
        : { ...record.replyTo },
    }),
  };
}

/** The Connect implementation of `beep.messages.v1.MessagesService`. */
export function messagesRoutes(
  messages: MessagesService,
  callers: CallerAuthenticator,
  clients: ClientFactory,
): ServiceImpl<typeof MessagesServiceDesc> {
  const users = clients.client(UserDirectoryService);
  const caller = async (context: HandlerContext): Promise<MessagesCaller> => {
    const { userId, authorization } = await callers.authenticate(context);
    return {
      userId,
      // Why the caller's token: username lookups act for the sender, like any call they could make.
      findUsers: async (usernames) =>
        (await users.findUsersByUsername({ usernames: [...usernames] }, { headers: { authorization } }))
          .users,
    };
  };
  return {
    async sendMessage(request, context) {
      const message = await messages.send(await caller(context), request);
      return { message: protoMessage(message) };
    },
    async editMessage(request, context) {
      const message = await messages.edit(await caller(context), request.messageId, request.content);
      return { message: protoMessage(message) };
    },
    async deleteMessage(request, context) {
      return messages.delete(await caller(context), request.messageId);
    },
    async pinMessage(request, context) {
      return { message: protoMessage(await messages.pin(await caller(context), request.messageId)) };
    },
    async unpinMessage(request, context) {
      return { message: protoMessage(await messages.unpin(await caller(context), request.messageId)) };
    },
    async getMessage(request, context) {
      return { message: protoMessage(await messages.get(await caller(context), request.messageId)) };
    },
    async listMessages(request, context) {
      const page = await messages.list(await caller(context), request.channelId, {
        before: request.before,
        after: request.after,
        around: request.around,
        limit: request.limit,
        threadId: request.threadId,
      });
      return { messages: page.messages.map(protoMessage), hasMore: page.hasMore };
    },
    async listPins(request, context) {
      const pins = await messages.pins(await caller(context), request.channelId);
      return { messages: pins.map(protoMessage), hasMore: false };
    },
    async startTyping(request, context) {
      return messages.startTyping(await caller(context), request.channelId);
    },
  };
}

export { MessagesServiceDesc };
