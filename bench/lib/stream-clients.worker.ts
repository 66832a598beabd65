// A child process holding many WebSocket clients (the load generator's receiving side), driven over IPC
// by stream-clients.ts. One process holds at most a few thousand sockets: the sandbox allows 20,000 open
// files per process. Frames are not JSON-parsed: the bench marker in the message content is found by
// string search, the same cost for gateway frames and raw `ws` frames.
import WebSocket from "ws";

type Command =
  | { type: "connect"; url: string; tokens: string[]; protocol?: string; query?: string; concurrency: number }
  | { type: "reset" }
  | { type: "report" }
  | { type: "close" };

const MARKER = '"content":"bench ';
const sockets: WebSocket[] = [];
/** Highest bench message index seen per socket (for the parent's flow control); -1: not open. */
let lastIndex: Int32Array = new Int32Array(0);
let received = 0;
let receivedBytes = 0;
let firstFrameSample = "";
let latencies: number[] = [];
/** Why sockets failed to open or closed, by close code or error message (reported with "connected"). */
const failures = new Map<string, number>();
const fail = (why: string) => failures.set(why, (failures.get(why) ?? 0) + 1);
const now = () => performance.timeOrigin + performance.now();
const send = (message: unknown) => process.send?.(message);

function onFrame(slot: number, data: WebSocket.RawData): string | undefined {
  const text = String(data);
  const at = text.indexOf(MARKER);
  if (at === -1) return text;
  const start = at + MARKER.length;
  const space = text.indexOf(" ", start);
  const index = Number(text.slice(start, space));
  const sentAt = Number(text.slice(space + 1, text.indexOf('"', space)));
  received++;
  receivedBytes += text.length;
  if (!firstFrameSample) firstFrameSample = text;
  if (index > (lastIndex[slot] ?? 0)) lastIndex[slot] = index;
  // Keep at most ~200k samples per process: enough for p99.9, bounded memory.
  if (latencies.length < 200_000) latencies.push(now() - sentAt);
  return undefined;
}

function open(
  url: string,
  slot: number,
  token: string,
  protocol: string | undefined,
  query: string | undefined,
) {
  return new Promise<boolean>((resolve) => {
    const ws = protocol ? new WebSocket(url, protocol) : new WebSocket(url);
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      resolve(ok);
    };
    const timer = setTimeout(() => {
      if (!settled) fail("timeout");
      settle(false);
    }, 60_000);
    ws.on("error", (error) => {
      if (!settled) fail(error.message.slice(0, 60));
      settle(false);
    });
    ws.on("close", (code) => {
      if (!settled) fail(`close ${code}`);
      // A closed socket (refused, or cut off as a slow consumer) no longer holds the flow control back.
      lastIndex[slot] = -1;
      settle(false);
    });
    ws.on("open", () => {
      sockets.push(ws);
      lastIndex[slot] = 0;
      if (!protocol) {
        clearTimeout(timer);
        settle(true);
        return;
      }
      ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
    });
    ws.on("message", (data) => {
      const other = onFrame(slot, data);
      if (other === undefined || !protocol) return;
      const frame = JSON.parse(other) as { type: string; payload?: unknown };
      if (frame.type === "connection_ack") {
        ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query } }));
        clearTimeout(timer);
        settle(true);
      } else if (frame.type === "ping") {
        ws.send(JSON.stringify({ type: "pong" }));
      } else if (frame.type === "error") {
        send({ type: "log", text: `subscription error: ${other.slice(0, 300)}` });
      }
    });
  });
}

process.on("message", async (command: Command) => {
  if (command.type === "connect") {
    lastIndex = new Int32Array(command.tokens.length).fill(-1);
    let next = 0;
    let ok = 0;
    await Promise.all(
      Array.from({ length: command.concurrency }, async () => {
        while (next < command.tokens.length) {
          const slot = next++;
          if (await open(command.url, slot, command.tokens[slot]!, command.protocol, command.query)) ok++;
        }
      }),
    );
    send({
      type: "connected",
      ok,
      failed: command.tokens.length - ok,
      failures: Object.fromEntries(failures),
    });
    failures.clear();
  } else if (command.type === "reset") {
    received = 0;
    receivedBytes = 0;
    latencies = [];
    send({ type: "reset" });
  } else if (command.type === "report") {
    const open = sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length;
    const slowest = slowestIndex();
    send({
      type: "report",
      received,
      receivedBytes,
      slowest,
      open,
      latencies,
      frameSample: firstFrameSample,
    });
    latencies = [];
  } else if (command.type === "close") {
    for (const ws of sockets) ws.terminate();
    sockets.length = 0;
    lastIndex = new Int32Array(0);
    firstFrameSample = "";
    send({ type: "closed" });
  }
});

// Progress for flow control: the slowest socket's last index, often, without the latency samples.
setInterval(() => {
  if (lastIndex.length === 0) return;
  send({ type: "progress", slowest: slowestIndex(), received });
}, 20).unref();

/** The lowest last index over the open sockets (MAX_SAFE_INTEGER when none is open: holds nothing back). */
function slowestIndex(): number {
  let slowest = Number.MAX_SAFE_INTEGER;
  for (const index of lastIndex) if (index >= 0 && index < slowest) slowest = index;
  return slowest;
}

process.on("disconnect", () => process.exit(0));
