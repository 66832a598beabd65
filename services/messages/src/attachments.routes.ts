import type { CallerAuthenticator } from "@beep/auth";
import { AttachmentsService as AttachmentsServiceDesc } from "@beep/proto/gen/beep/messages/v1/attachments_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import type { AttachmentsService } from "./attachments.service.ts";

/** The Connect implementation of `beep.messages.v1.AttachmentsService`. */
export function attachmentsRoutes(
  attachments: AttachmentsService,
  callers: CallerAuthenticator,
): ServiceImpl<typeof AttachmentsServiceDesc> {
  return {
    async checkAttachmentUpload(request, context) {
      const { userId } = await callers.authenticate(context);
      await attachments.checkUpload(userId, request.channelId);
      return { maxBytes: BigInt(attachments.maxBytes) };
    },
    async uploadAttachment(request, context) {
      const { userId } = await callers.authenticate(context);
      const view = await attachments.upload(userId, request);
      return {
        attachment: {
          ...view,
          size: BigInt(view.size),
          width: view.width ?? 0,
          height: view.height ?? 0,
          thumbnailUrl: view.thumbnailUrl ?? "",
        },
      };
    },
    async openAttachment(request, context) {
      const { userId } = await callers.authenticate(context);
      const opened = await attachments.open(userId, request.attachmentId, request.thumbnail);
      return { ...opened, size: BigInt(opened.size) };
    },
  };
}

export { AttachmentsServiceDesc };
