/** One text message. */
export interface SmsMessage {
  /** Recipient in E.164 (`+33612345678`). */
  to: string;
  /** Body; keep under 160 GSM characters to stay one segment. */
  text: string;
}

/**
 * Sends SMS through a pluggable gateway. `send` resolves once the gateway
 * accepted the message (2xx) and rejects otherwise, naming the gateway status;
 * no retry, no queue, no delivery guarantee beyond the gateway's. Bodies hold
 * codes: no driver logs them.
 */
export interface SmsSender {
  send(message: SmsMessage): Promise<void>;
}
