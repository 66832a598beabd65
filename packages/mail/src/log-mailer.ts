import type { Logger } from "@beep/observability";
import type { Mailer, MailMessage } from "./mailer.ts";

/**
 * log://: writes that a mail was sent (recipient, subject) instead of sending
 * it. With `logBodies`, also writes the text body, so a developer can read a
 * sign-in code without a mail server; createMailer only allows that in
 * development.
 */
export class LogMailer implements Mailer {
  constructor(
    private readonly logger: Logger,
    private readonly logBodies: boolean,
  ) {}

  async send(message: MailMessage): Promise<void> {
    this.logger.info(
      {
        mail: { to: message.to, subject: message.subject },
        ...(this.logBodies && { developmentMailBody: message.text }),
      },
      this.logBodies ? "mail (log://, development body shown)" : "mail (log://, not sent)",
    );
  }

  async close(): Promise<void> {}
}
