import { decoyPasswordHash, hashPassword, verifyPassword } from '@keel/db';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { TooManyRequests } from '../domain-errors';
import { createSession, revokeSession } from '../queries/sessions';
import { findLoginUser, findUserById, insertUser } from '../queries/users';
import {
  displayName,
  email,
  isWellFormed,
  password,
  passwordEmailReason,
  wellFormed,
} from '../shapes';
import { rateLimitedProcedure, router, tokenRejected, userProcedure } from '../trpc';

/** The refusal of a throttled account: says how long to wait, not whether the account exists. */
export function tooManyFailures(waitMs: number): TooManyRequests {
  return new TooManyRequests(
    `too many failed sign-ins for this email; try again in ${Math.ceil(waitMs / 1000)} s`,
  );
}

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
      // Per account, whatever the address: checked before the password, so a
      // throttled account is not probed further; unknown emails alike.
      const wait = ctx.loginThrottle.waitMs(input.email);
      if (wait > 0) throw tooManyFailures(wait);
      // Counted as failed before the first await, cleared on success: parallel
      // attempts cannot all slip past the check while one is hashing.
      ctx.loginThrottle.failed(input.email);
      const found = await findLoginUser(ctx.db, input.email);
      // An unknown email checks a decoy hash, so both failures take as long.
      const matches = await verifyPassword(
        input.password,
        found?.passwordHash ?? (await decoyPasswordHash),
      );
      if (!found || !matches) {
        throw new TRPCError({ code: 'UNAUTHORIZED', message: 'email or password is wrong' });
      }
      ctx.loginThrottle.succeeded(input.email);
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
