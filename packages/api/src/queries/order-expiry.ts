import type { DB } from '@keel/db';
import { type Kysely, sql } from 'kysely';
import { withRetry } from '../retry';
import { cancelAndRestock } from './orders';

/**
 * Cancels unpaid orders placed more than `ttlSeconds` ago and puts their
 * stock back: each in a transaction of its own, through `cancelAndRestock`
 * (the same function `orders.cancel` uses), marked as an expiry so its event
 * is `order.expired`. Returns the ids it expired, at most `limit`.
 *
 * Safe to run anywhere at once: each order is taken with
 * `FOR UPDATE SKIP LOCKED` and its status checked under that lock, so two
 * workers never expire the same order, an order being paid or cancelled
 * right now is skipped (and is no longer pending once its lock is free),
 * and a paid order is never touched.
 *
 * @example
 * ```ts
 * import { expireOverdueOrders } from '@keel/api/jobs';
 * const expired = await expireOverdueOrders(db, { ttlSeconds: 1800 });
 * ```
 */
export async function expireOverdueOrders(
  db: Kysely<DB>,
  options: { ttlSeconds: number; limit?: number },
): Promise<string[]> {
  const limit = options.limit ?? 100;
  const expired: string[] = [];
  while (expired.length < limit) {
    const id = await withRetry(() =>
      db.transaction().execute(async (trx) => {
        const order = await trx
          .selectFrom('orders')
          .select('id')
          .where('status', '=', 'pending')
          .where('deleted_at', 'is', null)
          .where('placed_at', '<', sql<Date>`now() - make_interval(secs => ${options.ttlSeconds})`)
          .orderBy('placed_at')
          .limit(1)
          .forUpdate()
          .skipLocked()
          .executeTakeFirst();
        if (!order) return null;
        // Read by the orders trigger: this cancellation is an expiry.
        await sql`select set_config('keel.order_cancel_reason', 'expired', true)`.execute(trx);
        await cancelAndRestock(trx, order.id);
        return order.id;
      }),
    );
    if (!id) break;
    expired.push(id);
  }
  return expired;
}
