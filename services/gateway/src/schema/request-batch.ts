/**
 * Per-request batching of id lookups (the N+1 guard of list fields such as `Message.reactions`): every
 * id asked for during one synchronous pass of the executor goes out as one call, and answers are
 * cached for the rest of the request. Keyed by the request's context object, so nothing outlives it.
 */
type Fetch<V> = (ids: string[]) => Promise<Map<string, V>>;

interface Batch<V> {
  fetch: Fetch<V>;
  cache: Map<string, Promise<V | undefined>>;
  pending: Map<string, { resolve(value: V | undefined): void; reject(error: unknown): void }>;
  scheduled: boolean;
}

const batches = new WeakMap<object, Map<string, Batch<unknown>>>();

/** Loads `id` through the context's batch named `name` (one `fetch` per executor pass). */
export function loadBatched<V>(
  context: object,
  name: string,
  fetch: Fetch<V>,
  id: string,
): Promise<V | undefined> {
  let byName = batches.get(context);
  if (!byName) {
    byName = new Map();
    batches.set(context, byName);
  }
  let batch = byName.get(name) as Batch<V> | undefined;
  if (!batch) {
    batch = { fetch, cache: new Map(), pending: new Map(), scheduled: false };
    byName.set(name, batch as Batch<unknown>);
  }
  const cached = batch.cache.get(id);
  if (cached) return cached;
  const current = batch;
  const promise = new Promise<V | undefined>((resolve, reject) =>
    current.pending.set(id, { resolve, reject }),
  );
  current.cache.set(id, promise);
  if (!current.scheduled) {
    current.scheduled = true;
    // Why setImmediate: the executor resolves every item of a list in one synchronous pass first.
    setImmediate(() => {
      const waiting = new Map(current.pending);
      current.pending.clear();
      current.scheduled = false;
      current.fetch([...waiting.keys()]).then(
        (found) => {
          for (const [key, handlers] of waiting) handlers.resolve(found.get(key));
        },
        (error: unknown) => {
          for (const [key, handlers] of waiting) {
            current.cache.delete(key);
            handlers.reject(error);
          }
        },
      );
    });
  }
  return promise;
}
