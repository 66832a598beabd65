import { Agent, request } from "node:http";

const SEND = `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { message { id } } }`;

/**
 * Sends messages through the gateway's GraphQL endpoint over keep-alive HTTP/1.1 (node:http rather than
 * fetch: the load generator shares the machine's two cores with Beep, so its own cost matters).
 */
export class GraphqlSender {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  private readonly url: URL;

  constructor(baseUrl: string) {
    this.url = new URL("/graphql", baseUrl);
  }

  /** Sends one message; resolves with the ack latency in ms, rejects on a GraphQL or HTTP error. */
  send(token: string, channelId: string, content: string): Promise<number> {
    const body = JSON.stringify({ query: SEND, variables: { input: { channelId, content } } });
    const began = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(
        this.url,
        {
          method: "POST",
          agent: this.agent,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            authorization: `Bearer ${token}`,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            if (res.statusCode !== 200 || text.includes('"errors"')) reject(new Error(text.slice(0, 300)));
            else resolve(performance.now() - began);
          });
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
