/** A socket whose writes can be held back and then written together (net.Socket semantics: calls nest). */
export interface CorkableSocket {
  cork?(): void;
  uncork?(): void;
}

/**
 * Holds back the writes to every socket written during one event-loop turn and releases them all once,
 * after the turn (one `setImmediate` for the whole set): a burst of events (group commit publishes many
 * at once) then costs each socket one `writev` instead of one per frame. Every socket corked here is
 * uncorked by the next {@link flush}, whatever happens to it in between, so a close frame or an error never
 * stays stuck behind a cork.
 */
export class TurnCorks<S extends CorkableSocket> {
  private corked = new Set<S>();
  private scheduled = false;

  /** @param afterUncork Called for each socket once its held writes went out (the slow-consumer check). */
  constructor(private readonly afterUncork: (socket: S) => void) {}

  /** Corks the socket until the end of this turn; false when it cannot be corked (write-through). */
  hold(socket: S): boolean {
    if (!socket.cork || !socket.uncork) return false;
    if (this.corked.has(socket)) return true;
    socket.cork();
    this.corked.add(socket);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
    return true;
  }

  /** Uncorks every held socket now (also called by the scheduled immediate). */
  readonly flush = (): void => {
    this.scheduled = false;
    const corked = this.corked;
    // Why a fresh set: a callback below may write again (a new turn's cork), which must not be lost.
    this.corked = new Set();
    for (const socket of corked) {
      try {
        socket.uncork?.();
      } catch {
        // A destroyed socket: nothing is pending for it any more.
      }
    }
    for (const socket of corked) this.afterUncork(socket);
  };
}
