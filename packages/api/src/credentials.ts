// The one way a password is proven, at sign-in and for sensitive changes
// alike: under the per-account throttle, against a decoy hash for unknown
// emails, so every check costs the same and counts the same.
import { decoyPasswordHash, verifyPassword } from '@keel/db';
import type { Context } from './context';
import { TooManyRequests } from './domain-errors';
import { findLoginUser } from './queries/users';

/** The refusal of a throttled account: says how long to wait, not whether the account exists. */
export function tooManyFailures(waitMs: number): TooManyRequests {
  return new TooManyRequests(
    `too many failed sign-ins for this email; try again in ${Math.ceil(waitMs / 1000)} s`,
  );
}

/**
 * The live, active account with this email and password, or null. A
 * throttled account is refused (`TooManyRequests`) before any lookup. The
 * attempt is counted as failed, in the same step that checks the wait,
 * before the lookup, and cleared on success, so attempts sent in parallel
 * cannot all slip past the throttle.
 *
 * @example
 * ```ts
 * const account = await checkCredentials(ctx, 'ann@keel.dev', 'keel-customer-password');
 * if (!account) refuse();
 * ```
 */
export async function checkCredentials(
  ctx: Pick<Context, 'db' | 'loginThrottle'>,
  email: string,
  password: string,
) {
  const wait = await ctx.loginThrottle.attempt(email);
  if (wait > 0) throw tooManyFailures(wait);
  const found = await findLoginUser(ctx.db, email);
  // An unknown email checks a decoy hash, so both failures take as long.
  const matches = await verifyPassword(password, found?.passwordHash ?? (await decoyPasswordHash));
  if (!found || !matches) return null;
  await ctx.loginThrottle.succeeded(email);
  return found;
}
