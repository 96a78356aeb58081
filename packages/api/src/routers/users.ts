import { hashPassword, verifyPassword } from '@keel/db';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { Context } from '../context';
import { pageInput } from '../pagination';
import { type AuthenticatedUser, revokeUserSessions } from '../queries/sessions';
import { findLoginUser, listUsers, softDeleteUser, updateUser } from '../queries/users';
import {
  displayName,
  fieldError,
  isWellFormed,
  password,
  weakPasswordReason,
  wellFormed,
} from '../shapes';
import { adminProcedure, router, userProcedure } from '../trpc';
import { tooManyFailures } from './auth';

/** What a sensitive change asks for: the account's password, checked as at login. */
const secret = z
  .string()
  .min(1, { error: 'is required' })
  .max(200)
  .refine(isWellFormed, wellFormed);

/**
 * Re-authentication for a sensitive change. A wrong password is a field
 * error on `field` (not UNAUTHORIZED, which would sign the frontend out) and
 * counts toward the account's sign-in throttle.
 */
async function confirmPassword(
  ctx: { db: Context['db']; loginThrottle: Context['loginThrottle']; user: AuthenticatedUser },
  given: string,
  field: string,
): Promise<void> {
  const wait = ctx.loginThrottle.waitMs(ctx.user.email);
  if (wait > 0) throw tooManyFailures(wait);
  // Counted before the first await, cleared on success (as at login).
  ctx.loginThrottle.failed(ctx.user.email);
  const account = await findLoginUser(ctx.db, ctx.user.email);
  if (!account || !(await verifyPassword(given, account.passwordHash))) {
    throw fieldError(field, 'is not your current password');
  }
  ctx.loginThrottle.succeeded(ctx.user.email);
}

export const usersRouter = router({
  list: adminProcedure
    .input(z.object(pageInput).default({ limit: 20 }))
    .query(({ ctx, input }) => listUsers(ctx.db, input)),

  updateMe: userProcedure
    .input(
      z
        .object({
          displayName: displayName.optional(),
          password: password.optional(),
          currentPassword: secret.optional(),
        })
        .refine((v) => v.displayName !== undefined || v.password !== undefined, {
          error: 'give displayName, password or both',
        })
        .refine((v) => v.password === undefined || v.currentPassword !== undefined, {
          path: ['currentPassword'],
          error: 'is required to change the password',
        }),
    )
    .mutation(async ({ ctx, input }) => {
      if (input.password !== undefined) {
        await confirmPassword(ctx, input.currentPassword ?? '', 'currentPassword');
        const reason = weakPasswordReason(input.password, ctx.user.email);
        if (reason) throw fieldError('password', reason);
      }
      const passwordHash = input.password ? await hashPassword(input.password) : undefined;
      return ctx.db.transaction().execute(async (trx) => {
        const user = await updateUser(trx, ctx.user.id, {
          displayName: input.displayName,
          passwordHash,
        });
        if (!user) throw new TRPCError({ code: 'NOT_FOUND', message: 'user not found' });
        // A new password signs out every other session.
        if (passwordHash) await revokeUserSessions(trx, ctx.user.id, ctx.user.sessionId);
        return user;
      });
    }),

  deleteMe: userProcedure.input(z.object({ password: secret })).mutation(async ({ ctx, input }) => {
    await confirmPassword(ctx, input.password, 'password');
    await ctx.db.transaction().execute(async (trx) => {
      await softDeleteUser(trx, ctx.user.id);
      await revokeUserSessions(trx, ctx.user.id);
    });
    return { deleted: true as const };
  }),
});
