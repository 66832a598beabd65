// The raw `ws` ceiling: a bare WebSocket server in its own process (like the gateway) that broadcasts one
// pre-serialised frame to every connection, driven over IPC by fanout.bench.ts.
import { WebSocketServer } from "ws";

const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
let template = "";

server.on("listening", () => {
  const address = server.address();
  process.send?.({ type: "listening", port: typeof address === "object" && address ? address.port : 0 });
});

process.on("message", (command: { type: string; template?: string; index?: number; sentAt?: number }) => {
  if (command.type === "template") {
    template = command.template ?? "";
    process.send?.({ type: "template" });
  } else if (command.type === "broadcast") {
    // Serialised once per broadcast (as the gateway serialises once per audience), then written to all.
    const frame = Buffer.from(template.replace("BENCH_CONTENT", `bench ${command.index} ${command.sentAt}`));
    for (const client of server.clients) client.send(frame, { binary: false });
  }
});

process.on("disconnect", () => process.exit(0));
