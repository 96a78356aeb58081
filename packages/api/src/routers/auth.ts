import { hashPassword } from '@keel/db';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { checkCredentials } from '../credentials';
import { createSession, revokeSession } from '../queries/sessions';
import { findUserById, insertUser } from '../queries/users';
import {
  displayName,
  email,
  isWellFormed,
  password,
  passwordEmailReason,
  wellFormed,
} from '../shapes';
import { rateLimitedProcedure, router, tokenRejected, userProcedure } from '../trpc';

export const authRouter = router({
  register: rateLimitedProcedure
    .input(
      z.object({ email, password, displayName }).superRefine((value, ctx) => {
        const reason = passwordEmailReason(value.password, value.email);
        if (reason) ctx.addIssue({ code: 'custom', path: ['password'], message: reason });
      }),
    )
    .mutation(async ({ ctx, input }) => {
      // Hash before the transaction: scrypt is slow and needs no row locks.
      const passwordHash = await hashPassword(input.password);
      return ctx.db.transaction().execute(async (trx) => {
        const user = await insertUser(trx, {
          email: input.email,
          displayName: input.displayName,
          passwordHash,
        });
        const token = await createSession(trx, user.id, ctx.settings.sessionTtlMs);
        return { user, token };
      });
    }),

  login: rateLimitedProcedure
    .input(
      z.object({ email, password: z.string().min(1).max(200).refine(isWellFormed, wellFormed) }),
    )
    .mutation(async ({ ctx, input }) => {
      const found = await checkCredentials(ctx, input.email, input.password);
      if (!found) {
        throw new TRPCError({ code: 'UNAUTHORIZED', message: 'email or password is wrong' });
      }
      const { passwordHash: _, ...user } = found;
      const token = await createSession(ctx.db, user.id, ctx.settings.sessionTtlMs);
      return { user, token };
    }),

  logout: userProcedure.mutation(async ({ ctx }) => {
    await revokeSession(ctx.db, ctx.user.sessionId);
    return { signedOut: true as const };
  }),

  me: userProcedure.query(async ({ ctx }) => {
    const user = await findUserById(ctx.db, ctx.user.id);
    if (!user) throw tokenRejected();
    return user;
  }),
});
