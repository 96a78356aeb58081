import { hashPassword } from '@keel/db';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { pageInput } from '../pagination';
import { revokeUserSessions } from '../queries/sessions';
import { listUsers, softDeleteUser, updateUser } from '../queries/users';
import { displayName, password } from '../shapes';
import { adminProcedure, router, userProcedure } from '../trpc';

export const usersRouter = router({
  list: adminProcedure
    .input(z.object(pageInput).default({ limit: 20 }))
    .query(({ ctx, input }) => listUsers(ctx.db, input)),

  updateMe: userProcedure
    .input(
      z
        .object({ displayName: displayName.optional(), password: password.optional() })
        .refine((v) => v.displayName !== undefined || v.password !== undefined, {
          error: 'give displayName, password or both',
        }),
    )
    .mutation(async ({ ctx, input }) => {
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

  deleteMe: userProcedure.mutation(async ({ ctx }) => {
    await ctx.db.transaction().execute(async (trx) => {
      await softDeleteUser(trx, ctx.user.id);
      await revokeUserSessions(trx, ctx.user.id);
    });
    return { deleted: true as const };
  }),
});
