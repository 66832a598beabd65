import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type { StreamSocket } from "./stream-hub.ts";

/**
 * The stream hub's view of one `ws` WebSocket: frames go through ws, and corking goes to the TCP socket
 * ws writes to (the upgraded request's socket), which ws itself does not expose. One per connection, so
 * every subscription of a socket shares it (the hub keys slow-consumer cut-off by it).
 */
export class WsStreamSocket implements StreamSocket {
  constructor(
    private readonly ws: WebSocket,
    private readonly tcp: Duplex,
  ) {}

  send(data: Buffer, options: { binary: boolean }): void {
    this.ws.send(data, options);
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  get readyState(): number {
    return this.ws.readyState;
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  cork(): void {
    this.tcp.cork();
  }

  uncork(): void {
    this.tcp.uncork();
  }
}
