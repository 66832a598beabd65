import type { Logger } from "@beep/observability";
import type { SmsMessage, SmsSender } from "./sms-sender.ts";

/** log://: records that an SMS would have been sent (recipient only; never the text). */
export class LogSmsSender implements SmsSender {
  constructor(private readonly logger: Logger) {}

  async send(message: SmsMessage): Promise<void> {
    this.logger.info({ sms: { to: message.to } }, "sms (log://, not sent)");
  }
}
