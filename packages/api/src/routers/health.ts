import { sql } from 'kysely';
import { publicProcedure, router } from '../trpc';

export const healthRouter = router({
  /** Whether the database answers. */
  check: publicProcedure.query(async ({ ctx }) => {
    await sql`select 1`.execute(ctx.db);
    return { database: 'ok' as const };
  }),
});
