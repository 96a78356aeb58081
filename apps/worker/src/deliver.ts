import type { DB } from '@keel/db';
import { type Kysely, sql } from 'kysely';
import type { WebhookSender } from './webhook';

/** What one run over an order's pending events came to. */
export type DeliveryRun =
  /** Nothing left to deliver now. */
  | { kind: 'done'; delivered: number; givenUp: number }
  /** The next event waits for its retry time; run again then. */
  | { kind: 'wait'; until: Date; delivered: number; givenUp: number }
  /** Another worker is delivering this order's events right now. */
  | { kind: 'busy'; delivered: number; givenUp: number };

export interface DeliveryOptions {
  send: WebhookSender;
  maxAttempts: number;
  /** The wait after `attempt` failed tries. */
  retryDelayMs: (attempt: number) => number;
  /** Called once per try, for logs and metrics. */
  onTry?: (tried: { eventId: string; ok: boolean; error?: string; givenUp: boolean }) => void;
}

/**
 * Delivers the pending events of one order, oldest first, one transaction
 * per try. The transaction holds a transaction-level advisory lock on the
 * order, keyed by the first 64 bits of its id (a second worker finds it
 * `busy` and leaves it) and the event's row
 * while the webhook is sent, then records the outcome:
 * - delivered: marked `delivered`, and the next event follows;
 * - failed: its try is counted and its next try set after a back-off; the
 *   order's later events wait behind it (events of an order arrive in
 *   order), until it is given up on after `maxAttempts` tries (`failed`,
 *   kept for an admin), which lets them go.
 * If the worker dies mid-try, its transaction and lock end with its
 * connection: the event is still pending, with the same id, and the next
 * run sends it again.
 *
 * @example
 * ```ts
 * const run = await deliverOrderEvents(db, orderId, { send, maxAttempts: 8, retryDelayMs: () => 5_000 });
 * ```
 */
export async function deliverOrderEvents(
  db: Kysely<DB>,
  orderId: string,
  options: DeliveryOptions,
): Promise<DeliveryRun> {
  let delivered = 0;
  let givenUp = 0;
  for (;;) {
    const step = await db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ locked: boolean }>`
        select pg_try_advisory_xact_lock(
          ('x' || left(replace(${orderId}::text, '-', ''), 16))::bit(64)::bigint) as locked`.execute(
        trx,
      );
      if (!rows[0]?.locked) return { kind: 'busy' } as const;
      const event = await trx
        .selectFrom('keel_jobs.order_events')
        .select(['id', 'type', 'occurred_at', 'data', 'attempt_count', 'next_attempt_at'])
        .where('order_id', '=', orderId)
        .where('delivery_status', '=', 'pending')
        .where('deleted_at', 'is', null)
        .orderBy('position')
        .limit(1)
        .forUpdate()
        .executeTakeFirst();
      if (!event) return { kind: 'done' } as const;
      const now = new Date();
      if (event.next_attempt_at > now)
        return { kind: 'wait', until: event.next_attempt_at } as const;
      const outcome = await options.send({
        id: event.id,
        type: event.type,
        occurredAt: event.occurred_at,
        data: event.data,
      });
      if (outcome.ok) {
        await trx
          .updateTable('keel_jobs.order_events')
          .set({
            delivery_status: 'delivered',
            delivered_at: sql`clock_timestamp()`,
            attempt_count: event.attempt_count + 1,
            last_error: null,
          })
          .where('id', '=', event.id)
          .execute();
        options.onTry?.({ eventId: event.id, ok: true, givenUp: false });
        return { kind: 'delivered' } as const;
      }
      const attempts = event.attempt_count + 1;
      const giveUp = attempts >= options.maxAttempts;
      await trx
        .updateTable('keel_jobs.order_events')
        .set({
          attempt_count: attempts,
          last_error: outcome.error.slice(0, 1000),
          ...(giveUp
            ? { delivery_status: 'failed' }
            : {
                next_attempt_at: new Date(Date.now() + options.retryDelayMs(attempts)),
              }),
        })
        .where('id', '=', event.id)
        .execute();
      options.onTry?.({ eventId: event.id, ok: false, error: outcome.error, givenUp: giveUp });
      return { kind: giveUp ? 'given up' : 'failed' } as const;
    });
    if (step.kind === 'delivered') delivered += 1;
    else if (step.kind === 'given up') givenUp += 1;
    else if (step.kind === 'failed') continue;
    else if (step.kind === 'wait') return { kind: 'wait', until: step.until, delivered, givenUp };
    else return { kind: step.kind, delivered, givenUp };
  }
}
