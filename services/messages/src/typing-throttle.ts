/** How long a typing indicator lasts unless renewed (MSG-10). */
export const TYPING_TTL_MS = 10_000;
/** A user's renewals within this window are not broadcast again. */
export const TYPING_THROTTLE_MS = 8_000;

/**
 * Per (user, channel) throttle of typing broadcasts: clients call startTyping on every keystroke burst;
 * the bus sees at most one `typing.started` per window. Bounded: stale entries are dropped on insert.
 */
export class TypingThrottle {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly options: { maxEntries: number; now?: () => number } = { maxEntries: 100_000 },
  ) {}

  /** Whether to broadcast now, and when the indicator lapses. */
  hit(userId: string, channelId: string): { broadcast: boolean; expiresAt: Date } {
    const now = this.options.now ? this.options.now() : Date.now();
    const key = `${userId}:${channelId}`;
    const previous = this.last.get(key);
    if (previous !== undefined && now - previous < TYPING_THROTTLE_MS) {
      return { broadcast: false, expiresAt: new Date(previous + TYPING_TTL_MS) };
    }
    this.last.delete(key);
    this.last.set(key, now);
    if (this.last.size > this.options.maxEntries) {
      for (const [k, at] of this.last) {
        if (now - at < TYPING_THROTTLE_MS && this.last.size <= this.options.maxEntries) break;
        this.last.delete(k);
      }
    }
    return { broadcast: true, expiresAt: new Date(now + TYPING_TTL_MS) };
  }
}
