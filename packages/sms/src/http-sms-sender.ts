import type { SmsMessage, SmsSender } from "./sms-sender.ts";

/** http(s)://: POSTs `{ to, text }` as JSON to a gateway, with a bearer token when one is set. */
export class HttpSmsSender implements SmsSender {
  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(message: SmsMessage): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(this.token && { authorization: `Bearer ${this.token}` }),
        },
        body: JSON.stringify({ to: message.to, text: message.text }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw new Error(`send sms to ${message.to} via ${new URL(this.url).host}`, { cause });
    }
    // Drain the body so the connection is reused.
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) {
      throw new Error(`send sms to ${message.to}: gateway answered ${response.status}`);
    }
  }
}
