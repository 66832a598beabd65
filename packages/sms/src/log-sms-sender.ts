import type { Logger } from "@beep/observability";
import type { SmsMessage, SmsSender } from "./sms-sender.ts";

/**
 * log://: records that an SMS would have been sent. The text (a sign-in code)
 * is written only when `showText` is on, which the factory allows in
 * development only, so a developer can sign in by phone locally.
 */
export class LogSmsSender implements SmsSender {
  constructor(
    private readonly logger: Logger,
    private readonly showText = false,
  ) {}

  async send(message: SmsMessage): Promise<void> {
    this.logger.info(
      { sms: { to: message.to }, ...(this.showText && { developmentSmsText: message.text }) },
      this.showText ? "sms (log://, development text shown)" : "sms (log://, not sent)",
    );
  }
}
