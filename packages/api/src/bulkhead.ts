// A bulkhead: at most `size` of one kind of work at once, a few more waiting,
// the rest refused. Searches scan an index; without one, a burst of them can
// take every pooled connection and starve plain reads.
import { TooManyRequests } from './domain-errors';

export interface Bulkhead {
  /** Runs `work` when a slot is free; refuses when `maxWaiting` are already waiting. */
  run<T>(work: () => Promise<T>): Promise<T>;
}

/**
 * @example
 * ```ts
 * const searches = createBulkhead(2, 32);
 * const page = await searches.run(() => listProducts(db, filter, page));
 * ```
 */
export function createBulkhead(size: number, maxWaiting: number): Bulkhead {
  let active = 0;
  const waiting: (() => void)[] = [];
  return {
    async run(work) {
      if (active >= size) {
        if (waiting.length >= maxWaiting) {
          throw new TooManyRequests('too many searches are running; retry in a moment');
        }
        await new Promise<void>((resolve) => waiting.push(resolve));
      } else {
        active += 1;
      }
      try {
        return await work();
      } finally {
        // Hand the slot straight to the next waiter, or free it.
        const next = waiting.shift();
        if (next) next();
        else active -= 1;
      }
    },
  };
}

/** No limit: the default for contexts tests build by hand. */
export const unlimited: Bulkhead = { run: (work) => work() };
