import { z } from 'zod';
import { pageInput } from '../pagination';
import { listFailedDeliveries, retryFailedDelivery } from '../queries/order-events';
import { id } from '../shapes';
import { adminProcedure, router } from '../trpc';

/** Order-event deliveries to ORDER_WEBHOOK_URL that the worker gave up on. Admins only. */
export const webhooksRouter = router({
  failedDeliveries: adminProcedure
    .input(z.object(pageInput).default({ limit: 20 }))
    .query(({ ctx, input }) => listFailedDeliveries(ctx.db, input)),

  retryDelivery: adminProcedure
    .input(z.object({ id }))
    .mutation(({ ctx, input }) => retryFailedDelivery(ctx.db, input.id)),
});
