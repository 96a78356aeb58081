// Where the sign-in limits count: the per-address attempt limit and the
// per-account throttle are written against this interface, so the same rules
// run on a store in this process's memory (one process) or in PostgreSQL
// (every instance of the service counts into the same rows).

/** The per-account throttle's rule: a few free failures, then a doubling wait. */
export interface ThrottleRule {
  /** Failures allowed before any wait. */
  freeFailures: number;
  /** The wait after the first failure beyond the free ones; each further failure doubles it. */
  baseDelayMs: number;
  /** The longest wait. */
  maxDelayMs: number;
  /** How long failures are remembered after the last one. */
  forgetAfterMs: number;
}

/** The counts behind the sign-in limits. Every method is one atomic step. */
export interface LimitStore {
  /** Which store this is, for the line the server logs at start. */
  readonly kind: 'memory' | 'postgres';
  /**
   * Adds `cost` to `key`'s count in its fixed window (a window of `windowMs`
   * opens at the first hit after the last one closed) and returns the
   * window's count, this hit included.
   */
  hit(key: string, windowMs: number, cost?: number): Promise<number>;
  /**
   * One throttled attempt: while `key` must still wait under `rule`, returns
   * the milliseconds left and counts nothing; otherwise counts one failure
   * (the caller clears it with `forget` if the attempt succeeds) and returns 0.
   */
  attempt(key: string, rule: ThrottleRule): Promise<number>;
  /** Milliseconds `key` must still wait under `rule`; 0 when it may try. Counts nothing. */
  waitMs(key: string, rule: ThrottleRule): Promise<number>;
  /** Forgets `key`'s count. */
  forget(key: string): Promise<void>;
}

/**
 * The wait after `failures` failures under `rule`: nothing for the free
 * ones, then `baseDelayMs` doubling with each failure, at most `maxDelayMs`.
 * The PostgreSQL store computes the same in SQL (postgres-limit-store.ts);
 * one test suite holds both stores to it.
 *
 * @example
 * ```ts
 * throttleDelayMs({ freeFailures: 5, baseDelayMs: 1_000, maxDelayMs: 60_000, forgetAfterMs: 0 }, 7); // 2_000
 * ```
 */
export function throttleDelayMs(rule: ThrottleRule, failures: number): number {
  if (failures <= rule.freeFailures) return 0;
  // Capped exponent: beyond 2^40 ms every rule's maximum has long been reached.
  const doublings = Math.min(failures - rule.freeFailures - 1, 40);
  return Math.min(rule.maxDelayMs, rule.baseDelayMs * 2 ** doublings);
}

interface Counter {
  count: number;
  lastHitAt: number;
  expiresAt: number;
}

/**
 * The counts in this process's memory: for one process only (`pnpm dev`, a
 * single instance), since each process keeps its own. Expired counts are
 * swept at most once a minute.
 *
 * @example
 * ```ts
 * const store = createMemoryLimitStore();
 * if ((await store.hit('attempt:auth.login:192.0.2.1', 60_000)) > 10) refuse();
 * ```
 */
export function createMemoryLimitStore(options: { clock?: () => number } = {}): LimitStore {
  const clock = options.clock ?? Date.now;
  const counters = new Map<string, Counter>();
  let lastSweep = clock();
  const live = (key: string, now: number): Counter | undefined => {
    if (now - lastSweep >= 60_000) {
      for (const [k, c] of counters) if (c.expiresAt <= now) counters.delete(k);
      lastSweep = now;
    }
    const counter = counters.get(key);
    return counter && counter.expiresAt > now ? counter : undefined;
  };
  const wait = (counter: Counter | undefined, rule: ThrottleRule, now: number) =>
    counter ? Math.max(0, counter.lastHitAt + throttleDelayMs(rule, counter.count) - now) : 0;
  return {
    kind: 'memory',
    async hit(key, windowMs, cost = 1) {
      const now = clock();
      const counter = live(key, now);
      if (!counter) {
        counters.set(key, { count: cost, lastHitAt: now, expiresAt: now + windowMs });
        return cost;
      }
      counter.count += cost;
      counter.lastHitAt = now;
      return counter.count;
    },
    async attempt(key, rule) {
      const now = clock();
      const counter = live(key, now);
      const left = wait(counter, rule, now);
      if (left > 0) return left;
      counters.set(key, {
        count: (counter?.count ?? 0) + 1,
        lastHitAt: now,
        expiresAt: now + rule.forgetAfterMs,
      });
      return 0;
    },
    async waitMs(key, rule) {
      const now = clock();
      return wait(live(key, now), rule, now);
    },
    async forget(key) {
      counters.delete(key);
    },
  };
}
