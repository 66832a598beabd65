/** WebSocket close code for a socket that sent more messages than `gateway.inboundMessagesPerWindow` (api.md). */
export const CLOSE_TOO_MANY_MESSAGES = 4029;

/** The part of a WebSocket the limiter watches. */
export interface InboundSocket {
  on(event: "message", listener: () => void): unknown;
  close(code: number, reason: string): void;
}

/** Options of {@link limitInboundMessages}. */
export interface InboundRateLimit {
  /** Messages allowed per window (the burst). */
  maxMessages: number;
  windowMs: number;
  /** Called once when the socket is closed for exceeding the limit (metrics). */
  onExceeded?: () => void;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * Counts a socket's inbound messages in fixed windows and closes it with
 * {@link CLOSE_TOO_MANY_MESSAGES} past the limit: one abusive client costs
 * its own connection only. Register before graphql-ws so the count comes first.
 */
export function limitInboundMessages(socket: InboundSocket, limit: InboundRateLimit): void {
  const now = limit.now ?? Date.now;
  let windowStart = now();
  let count = 0;
  let closed = false;
  socket.on("message", () => {
    if (closed) return;
    const at = now();
    if (at - windowStart >= limit.windowMs) {
      windowStart = at;
      count = 0;
    }
    count++;
    if (count > limit.maxMessages) {
      closed = true;
      limit.onExceeded?.();
      socket.close(CLOSE_TOO_MANY_MESSAGES, "Too many messages");
    }
  });
}
