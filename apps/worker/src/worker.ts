import { expireOverdueOrders } from '@keel/api/jobs';
import type { DB } from '@keel/db';
import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import { deliverOrderEvents } from './deliver';
import { queueSchema } from './queue/schema';
import type { WebhookSender } from './webhook';
import { retryDelayMs } from './webhook';

/** The queues migration 0011 creates. */
export const queues = { orderEvents: 'order_events', expireOrders: 'expire_orders' } as const;

/** The channel the orders trigger notifies when it writes an event (migration 0010). */
const eventsChannel = 'keel_order_events';

export interface WorkerOptions {
  db: Kysely<DB>;
  /** A pool for the LISTEN connection (one client, held). */
  pool: pg.Pool;
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
   * How often each worker sweeps for overdue orders and for events whose
   * wake-up was missed (a crash, a lost notification). Default: a fifth of
   * the TTL, between 1 and 5 s.
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
 *   pending events to the webhook (`deliverOrderEvents`). The orders trigger
 *   notifies `keel_order_events` at each commit; a worker that hears it
 *   queues the order's job at once, and each worker's sweep queues the
 *   orders whose events are due (retries, and anything a crash or a lost
 *   notification left behind), so nothing depends on the notification.
 * - `expire_orders`: cancels unpaid orders older than the TTL
 *   (`expireOverdueOrders`). Every worker queues it each sweep; the queue
 *   keeps one waiting (runs may overlap: each order is taken SKIP LOCKED).
 *
 * @example
 * ```ts
 * const worker = await startWorker({ db, pool, databaseUrl, logger, concurrency: 4, pendingOrderTtlSeconds: 1800 });
 * process.on('SIGTERM', () => void worker.stop());
 * ```
 */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { db, logger } = options;
  const sweepMs =
    options.sweepMs ??
    Math.min(5_000, Math.max(1_000, (options.pendingOrderTtlSeconds * 1000) / 5));
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

  // One held connection listening to the orders trigger. When it fails (a
  // database restart), it is opened again with a growing wait; meanwhile the
  // sweep finds every event.
  let listener: pg.PoolClient | undefined;
  let stopped = false;
  let relisten: NodeJS.Timeout | undefined;
  const listen = async (attempt = 0): Promise<void> => {
    if (stopped) return;
    try {
      const client = await options.pool.connect();
      client.on('notification', (message) => {
        if (!webhook || message.channel !== eventsChannel || !message.payload) return;
        queueEvents(message.payload).catch((error: unknown) =>
          logger.error({ err: error }, 'could not queue an order-events job'),
        );
      });
      client.on('error', (error) => {
        logger.error({ err: error }, 'the LISTEN connection failed; listening again');
        client.release(error);
        if (listener === client) listener = undefined;
        relisten = setTimeout(() => void listen(1), 1_000);
      });
      await client.query(`listen ${eventsChannel}`);
      listener = client;
      if (attempt > 0) logger.info('listening for order events again');
    } catch (error) {
      const waitMs = Math.min(30_000, 1_000 * 2 ** attempt);
      logger.error({ err: error, waitMs }, 'cannot LISTEN for order events; trying again');
      relisten = setTimeout(() => void listen(attempt + 1), waitMs);
    }
  };
  await listen();

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
    // One statement for them all; an order that already has a job waiting is skipped.
    if (due.length > 0) {
      await boss.insert(
        queues.orderEvents,
        due.map(({ order_id }) => ({ data: { orderId: order_id }, singletonKey: order_id })),
      );
    }
  }

  let sweeping: Promise<void> = Promise.resolve();
  const runSweep = () => {
    sweeping = sweep().catch((error: unknown) => logger.error({ err: error }, 'sweep failed'));
    return sweeping;
  };
  await runSweep();
  const timer = setInterval(runSweep, sweepMs);

  logger.info(
    {
      concurrency: options.concurrency,
      pendingOrderTtlSeconds: options.pendingOrderTtlSeconds,
      sweepMs,
      webhook: Boolean(webhook),
    },
    'worker started',
  );

  return {
    sweep: runSweep,
    async stop(timeoutMs = 30_000) {
      clearInterval(timer);
      await sweeping;
      stopped = true;
      clearTimeout(relisten);
      if (listener) {
        await listener.query(`unlisten ${eventsChannel}`).catch(() => {});
        listener.release();
      }
      // graceful: the jobs in hand finish (or are given back when the time is up).
      await boss.stop({ graceful: true, timeout: timeoutMs, close: true });
      logger.info('worker stopped');
    },
  };
}
