import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { pageInput } from '../pagination';
import { payOrder } from '../queries/order-payment';
import {
  changeOrderStatus,
  findOrder,
  listOrders,
  type OrderScope,
  orderStatuses,
  placeOrder,
} from '../queries/orders';
import { card, id } from '../shapes';
import { adminProcedure, router, userProcedure } from '../trpc';

const status = z.enum(orderStatuses);

const placeInput = z.object({
  idempotencyKey: z.uuid({ error: 'must be a UUID' }),
  items: z
    .array(z.object({ productId: id, quantity: z.number().int().min(1).max(10_000) }))
    .min(1, { error: 'an order needs at least one item' })
    .max(50, { error: 'an order has at most 50 items' })
    .refine((lines) => new Set(lines.map((l) => l.productId)).size === lines.length, {
      error: 'each product may appear only once',
    }),
});

/** Admins see every order; customers only their own (checked in the query itself). */
function scopeOf(user: { id: string; role: string }): OrderScope {
  return user.role === 'admin' ? { allUsers: true } : { userId: user.id };
}

export const ordersRouter = router({
  place: userProcedure.input(placeInput).mutation(async ({ ctx, input }) => {
    const { order } = await placeOrder(
      ctx.db,
      ctx.user.id,
      input.idempotencyKey,
      input.items,
      ctx.settings.maxPendingOrders,
    );
    return order;
  }),

  list: userProcedure
    .input(
      z
        .object({
          ...pageInput,
          status: status.optional(),
          userId: id.optional(),
          allUsers: z.boolean().default(false),
        })
        .default({ limit: 20, allUsers: false }),
    )
    .query(({ ctx, input }) => {
      const isAdmin = ctx.user.role === 'admin';
      if ((input.userId || input.allUsers) && !isAdmin) {
        throw new TRPCError({
          code: 'FORBIDDEN',
          message: 'userId and allUsers are for admins only',
        });
      }
      const scope: OrderScope = input.allUsers
        ? { allUsers: true }
        : { userId: input.userId ?? ctx.user.id };
      return listOrders(ctx.db, scope, { status: input.status }, input);
    }),

  byId: userProcedure.input(z.object({ id })).query(async ({ ctx, input }) => {
    const order = await findOrder(ctx.db, input.id, scopeOf(ctx.user));
    // Another customer's order is NOT_FOUND: its existence is not revealed.
    if (!order) throw new TRPCError({ code: 'NOT_FOUND', message: 'order not found' });
    return order;
  }),

  /**
   * Pays one of the caller's unpaid orders by card: `pending` → `paid`, or a
   * PAYMENT_REQUIRED error saying why the card was declined. Unpaid orders
   * are cancelled after PENDING_ORDER_TTL_SECONDS (the worker's expiry job).
   */
  pay: userProcedure
    .input(z.object({ id, card }))
    .mutation(({ ctx, input }) =>
      payOrder(ctx.db, ctx.payments, scopeOf(ctx.user), input.id, input.card),
    ),

  cancel: userProcedure
    .input(z.object({ id }))
    .mutation(({ ctx, input }) =>
      changeOrderStatus(ctx.db, input.id, 'cancelled', { userId: ctx.user.id }),
    ),

  updateStatus: adminProcedure
    .input(z.object({ id, status }))
    .mutation(({ ctx, input }) =>
      changeOrderStatus(ctx.db, input.id, input.status, { allUsers: true }),
    ),
});
