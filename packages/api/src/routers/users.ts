import { hashPassword } from '@keel/db';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { Context } from '../context';
import { checkCredentials } from '../credentials';
import { pageInput } from '../pagination';
import { type AuthenticatedUser, revokeUserSessions } from '../queries/sessions';
import { listUsers, softDeleteUser, updateUser } from '../queries/users';
import {
  displayName,
  fieldError,
  isWellFormed,
  password,
  passwordEmailReason,
  wellFormed,
} from '../shapes';
import { adminProcedure, router, userProcedure } from '../trpc';

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
  ctx: Pick<Context, 'db' | 'loginThrottle'> & { user: AuthenticatedUser },
  given: string,
  field: string,
): Promise<void> {
  if (!(await checkCredentials(ctx, ctx.user.email, given))) {
    throw fieldError(field, 'is not your current password');
  }
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
        // The `password` shape has already applied the rest of the policy.
        const reason = passwordEmailReason(input.password, ctx.user.email);
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
