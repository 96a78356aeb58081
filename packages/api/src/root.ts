import { authRouter } from './routers/auth';
import { healthRouter } from './routers/health';
import { ordersRouter } from './routers/orders';
import { productsRouter } from './routers/products';
import { usersRouter } from './routers/users';
import { webhooksRouter } from './routers/webhooks';
import { router } from './trpc';

/** Every router of the API, merged. The server mounts it; the client imports its type. */
export const appRouter = router({
  auth: authRouter,
  health: healthRouter,
  orders: ordersRouter,
  products: productsRouter,
  users: usersRouter,
  webhooks: webhooksRouter,
});

/** The API's type: all the client needs to know. */
export type AppRouter = typeof appRouter;
