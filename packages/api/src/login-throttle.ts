// Failed sign-ins counted per account (by email), whatever address they come
// from: after a few free failures each further one doubles the wait. Unknown
// emails are throttled exactly like real ones, so the throttle reveals nothing.

/** The throttle procedures consult; the server creates one per process. */
export interface LoginThrottle {
  /** Milliseconds this email must still wait before another attempt; 0 when it may try. */
  waitMs(email: string, now?: number): number;
  /**
   * Counts an attempt as failed. Callers count it *before* checking the
   * password (and clear it on success), so attempts sent in parallel cannot
   * all pass the check while the first is still hashing.
   */
  failed(email: string, now?: number): void;
  /** A successful sign-in clears the count. */
  succeeded(email: string): void;
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
  /** The time now, in ms; tests pass a fixed clock. Default `Date.now`. */
  clock?: () => number;
}

/**
 * An in-memory throttle for one process.
 *
 * @example
 * ```ts
 * const throttle = createLoginThrottle({ freeFailures: 5 });
 * if (throttle.waitMs(email) > 0) refuse();
 * ```
 */
export function createLoginThrottle(options: LoginThrottleOptions = {}): LoginThrottle {
  const freeFailures = options.freeFailures ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 1_000;
  const maxDelayMs = options.maxDelayMs ?? 15 * 60_000;
  // Far longer than the longest wait: forgetting an account when its wait
  // ends would hand out five free guesses again.
  const forgetAfterMs = options.forgetAfterMs ?? 24 * 3600_000;
  const clock = options.clock ?? Date.now;
  const accounts = new Map<
    string,
    { failures: number; blockedUntil: number; lastFailure: number }
  >();
  let lastSweep = 0;
  const key = (email: string) => email.trim().toLowerCase();
  return {
    waitMs(email, now = clock()) {
      const account = accounts.get(key(email));
      return account ? Math.max(0, account.blockedUntil - now) : 0;
    },
    failed(email, now = clock()) {
      if (now - lastSweep > 60_000) {
        for (const [k, a] of accounts) if (now - a.lastFailure > forgetAfterMs) accounts.delete(k);
        lastSweep = now;
      }
      const k = key(email);
      const account = accounts.get(k) ?? { failures: 0, blockedUntil: 0, lastFailure: now };
      account.failures += 1;
      account.lastFailure = now;
      if (account.failures > freeFailures) {
        const delay = baseDelayMs * 2 ** (account.failures - freeFailures - 1);
        account.blockedUntil = now + Math.min(maxDelayMs, delay);
      }
      accounts.set(k, account);
    },
    succeeded(email) {
      accounts.delete(key(email));
    },
  };
}

/** A throttle that never waits: the default for contexts tests build by hand. */
export const noLoginThrottle: LoginThrottle = {
  waitMs: () => 0,
  failed: () => {},
  succeeded: () => {},
};
