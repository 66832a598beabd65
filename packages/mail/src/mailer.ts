/** One outgoing e-mail. */
export interface MailMessage {
  /** Recipient address (one). */
  to: string;
  /** Subject line; any Unicode, encoded by the driver. */
  subject: string;
  /** Plain-text body; always present so every client can read it. */
  text: string;
  /** Optional HTML alternative of the same content. */
  html?: string;
}

/**
 * Sends e-mail. `send` resolves once the driver has handed the message over
 * (the SMTP server accepted it, or the log line was written); it rejects when
 * the hand-over failed, with the recipient in the message and the driver's
 * error as cause. No retry and no queue: a caller that must not lose a mail
 * retries itself, and every Beep mail can be asked for again (resend code).
 * Delivery to the inbox is never guaranteed. Message bodies hold codes and
 * links: drivers never log them, except the log:// driver when bodies are
 * explicitly enabled in development.
 */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
  /** Releases connections; later sends fail. */
  close(): Promise<void>;
}
