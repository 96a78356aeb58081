import type { DB } from '@keel/db';
import { type Kysely, sql } from 'kysely';
import { InvalidRequest, NotFound } from '../domain-errors';
import { type KeysetSort, type Page, paginate } from '../pagination';

/** An order event the worker gave up delivering to the webhook. */
export interface FailedDelivery {
  id: string;
  orderId: string;
  type: 'order.placed' | 'order.cancelled' | 'order.expired' | 'order.status_changed';
  occurredAt: Date;
  attemptCount: number;
  lastError: string | null;
  failedAt: Date;
}

const byLatestFailure = {
  name: 'order_events.failed',
  direction: 'desc',
  columns: [
    { ref: 'order_events.updated_at', type: 'timestamptz' },
    { ref: 'order_events.id', type: 'uuid' },
  ],
} as const satisfies KeysetSort;

/** Deliveries given up on, the latest failure first; keyset-paged. One statement. */
export function listFailedDeliveries(
  db: Kysely<DB>,
  page: { limit: number; cursor?: string | undefined },
): Promise<Page<FailedDelivery>> {
  const query = db
    .selectFrom('keel_jobs.order_events as order_events')
    .select([
      'order_events.id',
      'order_events.order_id as orderId',
      'order_events.type',
      'order_events.occurred_at as occurredAt',
      'order_events.attempt_count as attemptCount',
      'order_events.last_error as lastError',
      'order_events.updated_at as failedAt',
    ])
    .where('order_events.delivery_status', '=', 'failed')
    .where('order_events.deleted_at', 'is', null);
  return paginate(query, byLatestFailure, page);
}

/**
 * Puts a failed delivery back in line: pending, its tries counted afresh,
 * and due now, so the workers' poll of new events finds it within a poll
 * interval (no NOTIFY: migration 0013). It is delivered after whatever of
 * its order is still pending; later events of its order may already have
 * been delivered, so it can arrive after them (receivers order by
 * `occurredAt`).
 */
export async function retryFailedDelivery(db: Kysely<DB>, id: string): Promise<{ id: string }> {
  return db.transaction().execute(async (trx) => {
    const event = await trx
      .selectFrom('keel_jobs.order_events')
      .select(['id', 'delivery_status'])
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .forUpdate()
      .executeTakeFirst();
    if (!event) throw new NotFound('delivery not found');
    if (event.delivery_status !== 'failed') {
      throw new InvalidRequest(
        `only a failed delivery can be retried; this one is ${event.delivery_status}`,
      );
    }
    await trx
      .updateTable('keel_jobs.order_events')
      .set({ delivery_status: 'pending', attempt_count: 0, next_attempt_at: sql`now()` })
      .where('id', '=', id)
      .execute();
    return { id };
  });
}
