import type { Audience, AudienceIndex } from "./audience.ts";

/**
 * The default {@link AudienceIndex} until server/channel audiences are wired:
 * it only knows which users are attached on this node (reference counted, as
 * a user may hold several streams), so only `users` audiences have recipients.
 */
export class UserOnlyAudienceIndex implements AudienceIndex {
  private readonly attached = new Map<string, number>();

  async attach(userId: string): Promise<void> {
    this.attached.set(userId, (this.attached.get(userId) ?? 0) + 1);
  }

  detach(userId: string): void {
    const count = (this.attached.get(userId) ?? 0) - 1;
    if (count > 0) this.attached.set(userId, count);
    else this.attached.delete(userId);
  }

  *recipients(audience: Audience): Iterable<string> {
    if (audience.kind !== "users") return;
    for (const userId of audience.userIds) if (this.attached.has(userId)) yield userId;
  }

  async observe(): Promise<undefined> {
    return undefined;
  }
}
