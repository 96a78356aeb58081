// Failed sign-ins counted per account (by email), whatever address they come
// from: after a few free failures each further one doubles the wait. Unknown
// emails are throttled exactly like real ones, so the throttle reveals nothing.
import type { LimitStore, ThrottleRule } from './limit-store';

/** The throttle procedures consult. */
export interface LoginThrottle {
  /**
   * One sign-in attempt for `email`: while the account must wait, returns the
   * milliseconds left; otherwise counts the attempt as failed and returns 0.
   * Callers count *before* checking the password (and clear the count on
   * success), so attempts sent in parallel, to any instance, cannot all pass
   * the check while the first is still hashing.
   */
  attempt(email: string): Promise<number>;
  /** A successful sign-in clears the count. */
  succeeded(email: string): Promise<void>;
  /** Milliseconds this email must still wait before another attempt; 0 when it may try. */
  waitMs(email: string): Promise<number>;
}

export interface LoginThrottleOptions {
  /** Failures allowed before any wait. Default 5. */
  freeFailures?: number;
  /** The first wait; each further failure doubles it. Default 1 s. */
  baseDelayMs?: number;
  /** The longest wait. Default 15 minutes. */
  maxDelayMs?: number;
  /** How long an account's failures are remembered after its last one. Default 24 hours. */
  forgetAfterMs?: number;
}

/**
 * The per-account throttle, counting in `store` (memory for one process,
 * PostgreSQL for several).
 *
 * @example
 * ```ts
 * const throttle = createLoginThrottle(createMemoryLimitStore(), { freeFailures: 5 });
 * const wait = await throttle.attempt(email);
 * if (wait > 0) refuse(wait);
 * ```
 */
export function createLoginThrottle(
  store: LimitStore,
  options: LoginThrottleOptions = {},
): LoginThrottle {
  const rule: ThrottleRule = {
    freeFailures: options.freeFailures ?? 5,
    baseDelayMs: options.baseDelayMs ?? 1_000,
    maxDelayMs: options.maxDelayMs ?? 15 * 60_000,
    // Far longer than the longest wait: forgetting an account when its wait
    // ends would hand out five free guesses again.
    forgetAfterMs: options.forgetAfterMs ?? 24 * 3600_000,
  };
  const key = (email: string) => `sign-in:${email.trim().toLowerCase()}`;
  return {
    attempt: (email) => store.attempt(key(email), rule),
    succeeded: (email) => store.forget(key(email)),
    waitMs: (email) => store.waitMs(key(email), rule),
  };
}

/** A throttle that never waits: the default for contexts tests build by hand. */
export const noLoginThrottle: LoginThrottle = {
  attempt: async () => 0,
  succeeded: async () => {},
  waitMs: async () => 0,
};
