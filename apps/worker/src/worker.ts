import { expireOverdueOrders } from '@keel/api/jobs';
import type { DB } from '@keel/db';
import { type Kysely, sql } from 'kysely';
import { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import { deliverOrderEvents } from './deliver';
import { queueSchema } from './queue/schema';
import type { WebhookSender } from './webhook';
import { retryDelayMs } from './webhook';

/** The queues migration 0011 creates. */
export const queues = { orderEvents: 'order_events', expireOrders: 'expire_orders' } as const;

/**
 * How far back each poll of the outbox looks before the previous poll's
 * clock: an event's `next_attempt_at` is the start of the transaction that
 * wrote it, so a transaction that commits up to this long after it started
 * is still found by the next poll (a longer one, by the sweep).
 */
const pollOverlapMs = 1_000;

/**
 * The most events one poll reads. Far more than a second of orders at the
 * rates measured; a bigger burst (a bulk UPDATE of orders) is left in part
 * to the sweep.
 */
const pollLimit = 5_000;

export interface WorkerOptions {
  db: Kysely<DB>;
  databaseUrl: string;
  logger: Logger;
  concurrency: number;
  pendingOrderTtlSeconds: number;
  /** Absent: order events wait in the outbox. */
  webhook?: {
    send: WebhookSender;
    maxAttempts: number;
    retryBaseMs: number;
    retryMaxMs: number;
  };
  /**
   * How often each worker polls the outbox for newly written events and
   * queues their orders (default 50 ms). An event waits about half of this,
   * on average, between its commit and its job.
   */
  eventPollMs?: number;
  /**
   * How often each worker sweeps for overdue orders and for every order with
   * events due that the poll did not queue (a crash, a transaction that
   * committed long after it started). Default: a fifth of the TTL, between 1
   * and 5 s.
   */
  sweepMs?: number;
  /** Connections pg-boss holds. */
  queuePoolMax?: number;
}

export interface RunningWorker {
  /** Finishes the jobs in hand (up to `timeoutMs`), then stops. */
  stop(timeoutMs?: number): Promise<void>;
  /** Runs one sweep now (tests). */
  sweep(): Promise<void>;
}

/**
 * Starts a worker: it takes jobs from the PostgreSQL queue (pg-boss, in
 * `keel_jobs`) that every worker process shares. Two kinds of job:
 * - `order_events` (one per order with events due): delivers that order's
 *   pending events to the webhook (`deliverOrderEvents`). Every
 *   `eventPollMs` each worker reads the events written (or come due) since
 *   its previous poll, through the outbox's partial index, and queues their
 *   orders; each worker's sweep also queues every order whose events are
 *   due (retries, and anything a crash or a late commit left behind), so
 *   nothing depends on the poll. The orders trigger sends no NOTIFY
 *   (migration 0013): PostgreSQL serialises the commits of notifying
 *   transactions, and orders hold hot product rows until they commit.
 * - `expire_orders`: cancels unpaid orders older than the TTL
 *   (`expireOverdueOrders`). Every worker queues it each sweep; the queue
 *   keeps one waiting (runs may overlap: each order is taken SKIP LOCKED).
 *
 * @example
 * ```ts
 * const worker = await startWorker({ db, databaseUrl, logger, concurrency: 4, pendingOrderTtlSeconds: 1800 });
 * process.on('SIGTERM', () => void worker.stop());
 * ```
 */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { db, logger } = options;
  const sweepMs =
    options.sweepMs ??
    Math.min(5_000, Math.max(1_000, (options.pendingOrderTtlSeconds * 1000) / 5));
  const eventPollMs = options.eventPollMs ?? 50;
  const boss = new PgBoss({
    connectionString: options.databaseUrl,
    schema: queueSchema,
    max: options.queuePoolMax ?? 3,
    // The schema and the queues are made by `pnpm db:migrate`: this role has no DDL.
    migrate: false,
    createSchema: false,
    // No cron schedules (the sweep queues work) and no statistics tables,
    // whose daily partitions would need DDL.
    schedule: false,
    persistQueueStats: false,
    useListenNotify: true,
    // Index rebuilds are DDL too: the owner runs them, if ever.
    reindex: false,
    application_name: 'keel-worker',
  });
  boss.on('error', (error: unknown) => logger.error({ err: error }, 'job queue error'));
  await boss.start();

  const queueEvents = async (orderId: string, startAfter?: Date) => {
    const id = await boss.send(
      queues.orderEvents,
      { orderId },
      { singletonKey: orderId, ...(startAfter ? { startAfter } : {}) },
    );
    logger.trace({ orderId, startAfter, job: id }, 'order-events job queued');
  };

  /** Queues many orders in one statement; an order that already has a job waiting is skipped. */
  const queueOrders = (orderIds: readonly string[]) =>
    boss.insert(
      queues.orderEvents,
      orderIds.map((orderId) => ({ data: { orderId }, singletonKey: orderId })),
    );

  const webhook = options.webhook;
  if (webhook) {
    const deliver = async (orderId: string, jobId: string) => {
      const run = await deliverOrderEvents(db, orderId, {
        send: webhook.send,
        maxAttempts: webhook.maxAttempts,
        retryDelayMs: (attempt) =>
          retryDelayMs(attempt, { baseMs: webhook.retryBaseMs, maxMs: webhook.retryMaxMs }),
        onTry: (tried) => {
          if (tried.ok) logger.debug({ eventId: tried.eventId, orderId }, 'event delivered');
          else
            logger[tried.givenUp ? 'error' : 'warn'](
              { eventId: tried.eventId, orderId, error: tried.error },
              tried.givenUp ? 'event delivery given up' : 'event delivery failed; will retry',
            );
        },
      });
      logger.trace({ orderId, job: jobId, run }, 'order-events job ran');
      // Another worker holds the order: look again shortly, in case it
      // finished before this order's newest event committed.
      if (run.kind === 'busy') await queueEvents(orderId, new Date(Date.now() + 1_000));
      if (run.kind === 'wait') await queueEvents(orderId, run.until);
    };
    await boss.work<{ orderId: string }>(
      queues.orderEvents,
      {
        // A batch of orders per fetch, delivered side by side, and the next
        // fetch at once while batches come back full (pg-boss otherwise
        // waits out its polling interval between fetches).
        batchSize: options.concurrency,
        burstWhenBatchFull: true,
        // NOTIFY wakes a worker for a new job; a retry's job starts later
        // (startAfter), and only polling finds it then.
        pollingIntervalSeconds: 1,
        notifyPollingIntervalSeconds: 1,
      },
      async (jobs) => {
        await Promise.all(jobs.map((job) => deliver(job.data.orderId, job.id)));
      },
    );
  } else {
    logger.warn('ORDER_WEBHOOK_URL is not set: order events wait in the outbox, undelivered');
  }

  await boss.work(
    queues.expireOrders,
    { pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 1 },
    async () => {
      const expired = await expireOverdueOrders(db, {
        ttlSeconds: options.pendingOrderTtlSeconds,
        limit: 500,
      });
      if (expired.length > 0)
        logger.info({ orders: expired }, `expired ${expired.length} unpaid orders`);
    },
  );

  async function sweep(): Promise<void> {
    await boss.send(queues.expireOrders, null, { singletonKey: 'sweep' });
    if (!webhook) return;
    // Orders whose next event (the oldest pending one) is due; later events
    // behind a backed-off one are not. Oldest first, so none is starved.
    const { rows: due } = await sql<{ order_id: string }>`
      select order_id from (
        select distinct on (order_id) order_id, next_attempt_at, position
        from keel_jobs.order_events
        where delivery_status = 'pending' and deleted_at is null
        order by order_id, position
      ) heads
      where next_attempt_at <= now()
      order by position
      limit 500`.execute(db);
    if (due.length > 0) await queueOrders(due.map(({ order_id }) => order_id));
  }

  let sweeping: Promise<void> = Promise.resolve();
  const runSweep = () => {
    sweeping = sweep().catch((error: unknown) => logger.error({ err: error }, 'sweep failed'));
    return sweeping;
  };
  await runSweep();
  const timer = setInterval(runSweep, sweepMs);

  // The poll of newly written events. Each poll reads the pending events
  // that came due since the previous poll's clock (less pollOverlapMs):
  // `next_attempt_at` is the writing transaction's start for a new event,
  // and a retry's time for a retried one, so the one range finds both,
  // through the partial index order_events_next_attempt_at_idx. The clock
  // is the database's (its now()), so the range never depends on this
  // machine's. An event stays in range for pollOverlapMs after it is first
  // read; what was queued is remembered (by event and due time) for longer
  // than that, so each event is queued once. Forgetting too early would
  // only queue a job that finds its order done.
  const rememberMs = 2 * (pollOverlapMs + eventPollMs);
  const queuedRecently = new Map<string, number>();
  let since: Date | undefined;
  async function pollEvents(): Promise<void> {
    const { rows } = await sql<{
      polled_at: Date;
      id: string | null;
      order_id: string | null;
      next_attempt_at: Date | null;
    }>`
      select clock.polled_at, due.id, due.order_id, due.next_attempt_at
      from (select now() as polled_at) clock
      left join (
        select id, order_id, next_attempt_at
        from keel_jobs.order_events
        where delivery_status = 'pending'
          and next_attempt_at > coalesce(${since ?? null}::timestamptz, now())
            - ${`${pollOverlapMs} milliseconds`}::interval
          and next_attempt_at <= now()
          and deleted_at is null
        order by next_attempt_at
        limit ${pollLimit}
      ) due on true`.execute(db);
    const now = performance.now();
    for (const [key, forgetAt] of queuedRecently) {
      if (forgetAt > now) break;
      queuedRecently.delete(key);
    }
    const keys: string[] = [];
    const orderIds = new Set<string>();
    for (const { id, order_id, next_attempt_at } of rows) {
      if (!id || !order_id || !next_attempt_at) continue;
      const key = `${id}@${next_attempt_at.getTime()}`;
      if (queuedRecently.has(key)) continue;
      keys.push(key);
      orderIds.add(order_id);
    }
    if (orderIds.size > 0) {
      await queueOrders([...orderIds]);
      for (const key of keys) queuedRecently.set(key, now + rememberMs);
      logger.trace({ orders: orderIds.size }, 'order-events jobs queued by the poll');
    }
    // Only once the jobs are in: a poll that failed is read again.
    since = rows[0]?.polled_at;
  }

  // One poll at a time, every eventPollMs from the start of the last; after
  // a failure, a growing wait (up to 5 s) so an outage is not logged 20
  // times a second. The sweep goes on meanwhile.
  let stopped = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let polling: Promise<void> = Promise.resolve();
  let pollFailures = 0;
  const schedulePoll = (delayMs: number) => {
    if (stopped || !webhook) return;
    pollTimer = setTimeout(() => {
      const startedAt = performance.now();
      polling = pollEvents().then(
        () => {
          if (pollFailures > 0) logger.info('polling for order events again');
          pollFailures = 0;
          schedulePoll(Math.max(0, eventPollMs - (performance.now() - startedAt)));
        },
        (error: unknown) => {
          pollFailures += 1;
          const waitMs = Math.min(5_000, eventPollMs * 2 ** pollFailures);
          logger.error({ err: error, waitMs }, 'polling for order events failed; trying again');
          schedulePoll(waitMs);
        },
      );
    }, delayMs);
  };
  schedulePoll(0);

  logger.info(
    {
      concurrency: options.concurrency,
      pendingOrderTtlSeconds: options.pendingOrderTtlSeconds,
      sweepMs,
      eventPollMs,
      webhook: Boolean(webhook),
    },
    'worker started',
  );

  return {
    sweep: runSweep,
    async stop(timeoutMs = 30_000) {
      stopped = true;
      clearTimeout(pollTimer);
      clearInterval(timer);
      await Promise.all([polling, sweeping]);
      // graceful: the jobs in hand finish (or are given back when the time is up).
      await boss.stop({ graceful: true, timeout: timeoutMs, close: true });
      logger.info('worker stopped');
    },
  };
}
