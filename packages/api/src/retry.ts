/** Whether a failed transaction may simply be run again (40001, 40P01). */
export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === '40001' || code === '40P01';
}

/** Thrown inside a transaction to roll it back and run it again. */
export class RetryTransaction extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RetryTransaction';
  }
}

/** Counts retries, for the benchmark and the logs. */
export interface RetryObserver {
  onRetry?(attempt: number, error: unknown): void;
}

/**
 * Runs `work` (a whole transaction) and runs it again after a serialization
 * failure (40001), a deadlock (40P01) or a `RetryTransaction`, at most
 * `attempts` times, waiting a growing, jittered delay in between so that
 * colliding requests spread out.
 *
 * @example
 * ```ts
 * const order = await withRetry(() => db.transaction().execute((trx) => place(trx)));
 * ```
 */
export async function withRetry<T>(
  work: () => Promise<T>,
  attempts = 5,
  observer: RetryObserver = {},
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      const again = isRetryable(error) || error instanceof RetryTransaction;
      if (!again || attempt >= attempts) throw error;
      observer.onRetry?.(attempt, error);
      const delay = 5 * 2 ** attempt * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
