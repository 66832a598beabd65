/**
 * An async iterator that never yields and only ends when its consumer returns
 * it (graphql-ws does on `complete` and on socket close). The stream hub
 * writes frames to the socket itself, so graphql-ws never executes anything
 * per event; this iterator only ties the subscription's lifetime to it.
 */
export class HeldOpenIterator implements AsyncIterableIterator<never> {
  private ended = false;
  private readonly waiters: ((result: IteratorResult<never>) => void)[] = [];

  constructor(private readonly onEnd: () => void) {}

  /** True once returned or ended. */
  get done(): boolean {
    return this.ended;
  }

  next(): Promise<IteratorResult<never>> {
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  return(): Promise<IteratorResult<never>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(): Promise<IteratorResult<never>> {
    return this.return();
  }

  /** Ends the iterator from the server side (hub stopping, socket cut off). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const resolve of this.waiters.splice(0)) resolve({ value: undefined, done: true });
    this.onEnd();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<never> {
    return this;
  }
}
