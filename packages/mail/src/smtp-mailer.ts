import nodemailer, { type Transporter } from "nodemailer";
import type { Mailer, MailMessage } from "./mailer.ts";

/** smtp:// (plain or STARTTLS when offered) and smtps:// (implicit TLS) through nodemailer. */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(
    url: string,
    private readonly from: string,
  ) {
    this.transport = nodemailer.createTransport(url);
  }

  async send(message: MailMessage): Promise<void> {
    try {
      await this.transport.sendMail({
        from: this.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        ...(message.html !== undefined && { html: message.html }),
      });
    } catch (cause) {
      throw new Error(`send mail to ${message.to} over SMTP`, { cause });
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
