// Bounded concurrency for reads: enough files in flight to keep the disk and
// the hashing busy, few enough to bound memory (each read holds one file).

/** Recorded files read at once by the readers and by verification. */
export const READ_CONCURRENCY = 16;

/** `fn` over `items` with at most `limit` calls in flight; results in item order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * `fn` over `items` (an array, or an async source such as a manifest read a
 * window at a time), yielded in item order, with up to `limit` calls started
 * ahead of the one the consumer waits for. A failed call throws when its turn
 * comes; calls still in flight when the consumer stops are settled before the
 * generator returns.
 */
export async function* mapAhead<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): AsyncGenerator<R, void, undefined> {
  const source = Symbol.asyncIterator in items
    ? items[Symbol.asyncIterator]()
    : (items as Iterable<T>)[Symbol.iterator]();
  const inFlight: Promise<R>[] = [];
  let next = 0;
  let done = false;
  try {
    for (;;) {
      while (!done && inFlight.length < limit) {
        const item = await source.next();
        if (item.done) {
          done = true;
          break;
        }
        const pending = fn(item.value, next++);
        pending.catch(() => {}); // handled when its turn comes
        inFlight.push(pending);
      }
      if (inFlight.length === 0) return;
      yield await (inFlight.shift() as Promise<R>);
    }
  } finally {
    await Promise.allSettled(inFlight);
    await source.return?.();
  }
}
