import { createServer } from "node:http";

/** A local HTTP SMS gateway that keeps every `{ to, text }` it receives. */
export interface SmsGateway {
  /** `http://127.0.0.1:<port>/sms` for BEEP_SMS_URL. */
  readonly url: string;
  readonly messages: Array<{ to: string; text: string; authorization?: string }>;
  /** Resolves with the first SMS to `to`, waiting up to timeoutMs. */
  waitFor(to: string, timeoutMs?: number): Promise<{ to: string; text: string }>;
  stop(): Promise<void>;
}

/** Starts the gateway on a free loopback port. */
export async function startSmsGateway(): Promise<SmsGateway> {
  const messages: SmsGateway["messages"] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { to: string; text: string };
    messages.push({ ...body, authorization: request.headers.authorization });
    response.writeHead(202).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/sms`,
    messages,
    async waitFor(to, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.find((message) => message.to === to);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no SMS to ${to} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
