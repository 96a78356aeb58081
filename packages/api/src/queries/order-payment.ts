import { randomUUID } from 'node:crypto';
import type { DB } from '@keel/db';
import type { Kysely } from 'kysely';
import { Conflict, InvalidRequest, NotFound, PaymentDeclined } from '../domain-errors';
import type { Card, PaymentProvider } from '../payments/payment-provider';
import { findOrder, type Order, type OrderScope } from './orders';

/**
 * Pays one of the customer's unpaid orders with `provider`, in one
 * transaction: the order's row is locked (so the expiry job, a cancellation
 * or a second payment waits, then finds it paid), the card is charged, the
 * attempt is recorded in `payments`, and an approved charge moves the order
 * from `pending` to `paid`. A declined card is recorded too, and then
 * refused with `PaymentDeclined`; the order stays unpaid.
 *
 * The provider is called while the row is locked: a charge that answers
 * after the order was cancelled cannot exist. Each attempt has an
 * idempotency key of its own (a declined card must not make the provider
 * replay the decline for the next card); an order is charged at most once
 * because a second attempt waits for the lock and then finds it paid, and
 * `payments_order_id_approved_key` allows one approved payment per order.
 *
 * Known limit: if the transaction is lost after an approved charge (the
 * connection drops, the commit fails), the charge stands at the provider
 * while the order stays unpaid. A real provider's integration records the
 * attempt first, charges outside the transaction and confirms through the
 * provider's own webhook; the built-in test provider charges nothing.
 *
 * @example
 * ```ts
 * import { payOrder } from '@keel/api/jobs';
 * const paid = await payOrder(db, provider, { userId }, orderId, card);
 * ```
 */
export async function payOrder(
  db: Kysely<DB>,
  provider: PaymentProvider,
  scope: OrderScope,
  orderId: string,
  card: Card,
): Promise<Order> {
  const outcome = await db.transaction().execute(async (trx) => {
    let query = trx
      .selectFrom('orders')
      .select(['id', 'status', 'total_cents', 'currency'])
      .where('id', '=', orderId)
      .where('deleted_at', 'is', null)
      .forUpdate();
    if ('userId' in scope) query = query.where('user_id', '=', scope.userId);
    const order = await query.executeTakeFirst();
    if (!order) throw new NotFound('order not found');
    if (order.status !== 'pending') {
      if (order.status === 'cancelled') {
        throw new InvalidRequest('the order was cancelled (unpaid orders expire); place it again');
      }
      throw new Conflict(`the order is already ${order.status}`);
    }
    const result = await provider.charge({
      orderId,
      amountCents: order.total_cents,
      currency: order.currency,
      card,
      idempotencyKey: `${orderId}:${randomUUID()}`,
    });
    await trx
      .insertInto('payments')
      .values({
        order_id: orderId,
        provider: provider.name,
        status: result.status,
        amount_cents: order.total_cents,
        currency: order.currency,
        provider_reference: result.status === 'approved' ? result.reference : null,
        card_last4: card.number.slice(-4),
        decline_reason: result.status === 'declined' ? result.reason : null,
      })
      .execute();
    if (result.status === 'declined') return result;
    await trx.updateTable('orders').set({ status: 'paid' }).where('id', '=', orderId).execute();
    const paid = await findOrder(trx, orderId, scope);
    if (!paid) throw new Error('unreachable: the order was just paid');
    return paid;
  });
  // After the commit: the declined attempt stays recorded.
  if ('reason' in outcome) throw new PaymentDeclined(outcome.reason);
  return outcome;
}
