import type { LimitStore } from './limit-store';

/** Returns false once `key` has used up its attempts for the window. */
export type AttemptLimit = (key: string) => Promise<boolean>;

/**
 * At most `perWindow` attempts per key (a client address and a procedure)
 * in a fixed window of `windowMs`, counted in `store`: in PostgreSQL every
 * instance of the service counts into the same window. Refused attempts
 * count too, so hammering does not open the next window any sooner.
 *
 * @example
 * ```ts
 * const allowAttempt = createAttemptLimit(createMemoryLimitStore(), 10);
 * if (!(await allowAttempt('auth.login:192.0.2.1'))) refuse();
 * ```
 */
export function createAttemptLimit(
  store: LimitStore,
  perWindow: number,
  windowMs = 60_000,
): AttemptLimit {
  return async (key) => (await store.hit(`attempt:${key}`, windowMs)) <= perWindow;
}
