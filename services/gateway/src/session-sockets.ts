import type { Bus, BusSubscription } from "@beep/bus";
import type { Logger } from "@beep/observability";

/** WebSocket close code for a revoked session, as for an invalid or expired token (api.md). */
const CLOSE_SESSION_ENDED = 4401;

/** The part of a WebSocket this registry uses. */
export interface ClosableSocket {
  close(code: number, reason: string): void;
}

/**
 * Open graphql-ws sockets of this node by session id, closed with 4401 when
 * `session.revoked` arrives. One fan-out bus subscription per node, so a
 * revocation reaches every gateway node; the lookup is by session id, so its
 * cost does not grow with connected users.
 */
export class SessionSockets {
  private readonly sockets = new Map<string, Set<ClosableSocket>>();
  private subscription: BusSubscription | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly logger: Logger,
  ) {}

  /** Starts listening to `session.revoked`. */
  async start(): Promise<void> {
    this.subscription = await this.bus.subscribe(["session.revoked"], (event) => {
      const sessionId = (event.payload as { sessionId?: unknown }).sessionId;
      if (typeof sessionId === "string") this.closeSession(sessionId);
    });
  }

  /** Stops listening; sockets are left to the server's own shutdown. */
  async stop(): Promise<void> {
    await this.subscription?.close();
    this.sockets.clear();
  }

  /** Tracks a socket authenticated with a token of `sessionId`. */
  add(sessionId: string, socket: ClosableSocket): void {
    const set = this.sockets.get(sessionId) ?? new Set();
    set.add(socket);
    this.sockets.set(sessionId, set);
  }

  /** Forgets a socket (on close). */
  remove(sessionId: string, socket: ClosableSocket): void {
    const set = this.sockets.get(sessionId);
    if (!set) return;
    set.delete(socket);
    if (set.size === 0) this.sockets.delete(sessionId);
  }

  /** Closes every socket of the session on this node with 4401. */
  closeSession(sessionId: string): void {
    const set = this.sockets.get(sessionId);
    if (!set) return;
    this.sockets.delete(sessionId);
    this.logger.info({ session_id: sessionId, sockets: set.size }, "closing sockets of a revoked session");
    for (const socket of set) socket.close(CLOSE_SESSION_ENDED, "Session ended");
  }
}
