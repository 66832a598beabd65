/**
 * An async iterable fed by pushes, holding at most `capacity` undelivered
 * items. A consumer that falls that far behind is cut off (`push` returns
 * false and the iterator ends with an error) rather than growing memory.
 */
export class BoundedQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiter:
    | { resolve: (result: IteratorResult<T>) => void; reject: (error: Error) => void }
    | undefined;
  private ended = false;
  private failure: Error | undefined;

  constructor(
    private readonly capacity: number,
    private readonly onClose: () => void = () => {},
  ) {}

  /** Queues an item; false when the queue is closed or the consumer was too slow (it is then closed). */
  push(item: T): boolean {
    if (this.ended) return false;
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = undefined;
      resolve({ value: item, done: false });
      return true;
    }
    if (this.items.length >= this.capacity) {
      this.fail(new Error("subscriber too slow: event buffer full"));
      return false;
    }
    this.items.push(item);
    return true;
  }

  /** Ends the iterator with an error after nothing more is delivered. */
  fail(error: Error): void {
    if (this.ended) return;
    this.failure = error;
    this.items.length = 0;
    this.finish();
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) {
      if (this.failure) waiter.reject(this.failure);
      else waiter.resolve({ value: undefined, done: true });
    }
    this.onClose();
  }
}
