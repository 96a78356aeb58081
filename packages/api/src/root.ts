import { healthRouter } from './routers/health';
import { router } from './trpc';

/** Every router of the API, merged. The server mounts it; the client imports its type. */
export const appRouter = router({
  health: healthRouter,
});

/** The API's type: all the client needs to know. */
export type AppRouter = typeof appRouter;
