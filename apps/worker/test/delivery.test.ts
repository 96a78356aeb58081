// Order events reach the webhook: found by the worker's poll with no NOTIFY,
// signed, in order, retried with back-off, timed out, given up on and
// re-queued by an admin, and shared between two workers. Real PostgreSQL,
// real pg-boss, a real HTTP receiver on loopback.
import { randomUUID } from 'node:crypto';
import { createCaller, createInnerContext } from '@keel/api';
import { createDb } from '@keel/db';
import { createTestDatabase, createUser, makeProduct } from '@keel/platform/testing';
import { sql } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { createWebhookSender, type WebhookSender } from '../src/webhook';
import { type RunningWorker, startWorker } from '../src/worker';
import { type Receiver, startReceiver, webhookSecret } from './receiver';

const testDb = await createTestDatabase();
const { db } = testDb;
afterAll(() => testDb.destroy());

const customer = await createUser(db, { label: 'events' });
const admin = await createUser(db, { label: 'events-admin', role: 'admin' });
const settings = { maxPendingOrders: 100_000 };
const asCustomer = createCaller(createInnerContext({ db, token: customer.token, settings }));
const asAdmin = createCaller(createInnerContext({ db, token: admin.token, settings }));
const product = await makeProduct(db, { stockQuantity: 100_000 });

const running: { worker: RunningWorker; close: () => Promise<void> }[] = [];
const receivers: Receiver[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.worker.stop(5_000);
    await r.close();
  }
  for (const r of receivers.splice(0)) await r.close();
});

async function receiver(...args: Parameters<typeof startReceiver>) {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

/** Which worker sent each event, by event id. */
const sentBy = new Map<string, string[]>();
function tagged(name: string, send: WebhookSender): WebhookSender {
  return (event) => {
    sentBy.set(event.id, [...(sentBy.get(event.id) ?? []), name]);
    return send(event);
  };
}

async function worker(
  url: string,
  options: { timeoutMs?: number; maxAttempts?: number; name?: string; sweepMs?: number } = {},
) {
  const workerDb = createDb({ connectionString: testDb.urls.app, maxConnections: 6 });
  const started = await startWorker({
    db: workerDb,
    databaseUrl: testDb.urls.app,
    logger: pino({ level: process.env.TEST_LOG ?? 'silent' }),
    concurrency: 4,
    pendingOrderTtlSeconds: 3600,
    sweepMs: options.sweepMs ?? 500,
    webhook: {
      send: tagged(
        options.name ?? 'worker',
        createWebhookSender({ url, secret: webhookSecret, timeoutMs: options.timeoutMs ?? 5_000 }),
      ),
      maxAttempts: options.maxAttempts ?? 8,
      retryBaseMs: 100,
      retryMaxMs: 400,
    },
  });
  running.push({ worker: started, close: () => workerDb.destroy() });
  return started;
}

function place() {
  return asCustomer.orders.place({
    idempotencyKey: randomUUID(),
    items: [{ productId: product.id, quantity: 1 }],
  });
}

describe('delivery', () => {
  test('an order placed with no NOTIFY anywhere reaches the webhook within well under a second, by the poll alone', async () => {
    // The orders trigger writes the event and notifies nobody (migration
    // 0013): the commits of notifying transactions are serialised, which
    // held scenario D at 226–273 orders/s against 317 without the NOTIFY.
    const { rows } = await sql<{ source: string }>`
      select prosrc as source from pg_proc
      where oid = 'keel_jobs.record_order_event()'::regprocedure`.execute(db);
    expect(rows[0]?.source).toContain('insert into keel_jobs.order_events');
    expect(rows[0]?.source).not.toContain('pg_notify');
    // And nothing else notifies the old channel while orders are placed.
    const listener = new pg.Client({ connectionString: testDb.urls.app });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (message) => heard.push(message.channel));
    await listener.query('listen keel_order_events');
    try {
      const r = await receiver();
      // The sweep is out of reach (it runs once at start, before the
      // orders): only the poll, at its default interval, can queue them.
      await worker(r.url, { sweepMs: 60_000 });
      const latenciesMs: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const order = await place();
        const committedAt = Date.now();
        await r.waitFor((x) => x.accepted().some((e) => e.data.order.id === order.id), 5_000);
        const arrived = r.accepted().find((e) => e.data.order.id === order.id);
        latenciesMs.push((arrived?.at ?? Number.POSITIVE_INFINITY) - committedAt);
      }
      expect(Math.max(...latenciesMs)).toBeLessThan(1_000);
      expect(heard).toEqual([]);
    } finally {
      await listener.end();
    }
  });

  test('a placed order reaches the webhook as order.placed, signed per Standard Webhooks, with the order', async () => {
    const r = await receiver();
    await worker(r.url);
    const order = await place();
    await r.waitFor((x) => x.accepted().some((e) => e.data.order.id === order.id));
    const event = r.accepted().find((e) => e.data.order.id === order.id);
    expect(event?.type).toBe('order.placed');
    expect(event?.verified).toBe(true);
    expect(event?.headers['webhook-id']).toBe(event?.id);
    expect(event?.headers['content-type']).toBe('application/json');
    expect(event?.data.order).toMatchObject({ id: order.id, status: 'pending', totalCents: 500 });
    // The receiver answers before the worker commits: give the commit a moment.
    await expect
      .poll(() =>
        db
          .selectFrom('keel_jobs.order_events')
          .select(['delivery_status', 'attempt_count'])
          .where('id', '=', event?.id ?? '')
          .executeTakeFirstOrThrow(),
      )
      .toEqual({ delivery_status: 'delivered', attempt_count: 1 });
  });

  test('the events of one order arrive in the order they happened', async () => {
    const r = await receiver();
    await worker(r.url);
    const order = await place();
    await asCustomer.orders.pay({
      id: order.id,
      card: { number: '4242424242424242', expiryMonth: 1, expiryYear: 2099, cvc: '123' },
    });
    await asAdmin.orders.updateStatus({ id: order.id, status: 'shipped' });
    await asAdmin.orders.updateStatus({ id: order.id, status: 'delivered' });
    await r.waitFor((x) => x.accepted().filter((e) => e.data.order.id === order.id).length === 4);
    const mine = r.accepted().filter((e) => e.data.order.id === order.id);
    expect(mine.map((e) => `${e.type}:${e.data.order.status}`)).toEqual([
      'order.placed:pending',
      'order.status_changed:paid',
      'order.status_changed:shipped',
      'order.status_changed:delivered',
    ]);
  });

  test('a receiver that answers 500 three times, then 200: the event arrives on the fourth try, with the same id each time', async () => {
    const r = await receiver((_request, attempt) => (attempt <= 3 ? 500 : 200));
    await worker(r.url);
    const order = await place();
    await r.waitFor((x) => x.accepted().some((e) => e.data.order.id === order.id));
    const tries = r.requests.filter((e) => e.data.order.id === order.id);
    expect(tries).toHaveLength(4);
    expect(new Set(tries.map((t) => t.headers['webhook-id'])).size).toBe(1);
    // Backed off: each wait is at least half the exponential step (base 100 ms, doubling).
    const gaps = tries.slice(1).map((t, i) => t.at - (tries[i]?.at ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(50);
    expect(gaps[1]).toBeGreaterThanOrEqual(100);
    expect(gaps[2]).toBeGreaterThanOrEqual(200);
  });

  test('a receiver that hangs: the try times out and the event is sent again', async () => {
    const r = await receiver((_request, attempt) => (attempt === 1 ? 'hang' : 200));
    // Long enough that an answered try is not timed out on a loaded machine;
    // the hanging one never answers.
    await worker(r.url, { timeoutMs: 1_000 });
    const order = await place();
    await r.waitFor((x) => x.accepted().some((e) => e.data.order.id === order.id));
    await expect
      .poll(() =>
        db
          .selectFrom('keel_jobs.order_events')
          .select(['delivery_status', 'attempt_count'])
          .where('order_id', '=', order.id)
          .executeTakeFirstOrThrow(),
      )
      .toMatchObject({ delivery_status: 'delivered' });
    const tries = r.requests.filter((e) => e.data.order.id === order.id);
    // The hung try, then the one answered: every try counted, each with the same event id.
    expect(tries.length).toBeGreaterThanOrEqual(2);
    expect(new Set(tries.map((t) => t.id)).size).toBe(1);
    const { attempt_count } = await db
      .selectFrom('keel_jobs.order_events')
      .select('attempt_count')
      .where('order_id', '=', order.id)
      .executeTakeFirstOrThrow();
    expect(attempt_count).toBe(tries.length);
  });

  test("an event given up on does not hold back its order's later events; an admin lists it and re-queues it", async () => {
    let refusePlaced = true;
    const r = await receiver((request) =>
      refusePlaced && request.type === 'order.placed' ? 500 : 200,
    );
    await worker(r.url, { maxAttempts: 2 });
    const order = await place();
    await asCustomer.orders.cancel({ id: order.id });
    await r.waitFor((x) =>
      x.accepted().some((e) => e.data.order.id === order.id && e.type === 'order.cancelled'),
    );
    const failed = await asAdmin.webhooks.failedDeliveries({ limit: 50 });
    const entry = failed.items.find((f) => f.orderId === order.id);
    expect(entry).toMatchObject({ type: 'order.placed', attemptCount: 2 });
    expect(entry?.lastError).toContain('HTTP 500');

    refusePlaced = false;
    await asAdmin.webhooks.retryDelivery({ id: entry?.id ?? '' });
    await r.waitFor((x) =>
      x.accepted().some((e) => e.data.order.id === order.id && e.type === 'order.placed'),
    );
    expect(
      (await asAdmin.webhooks.failedDeliveries({ limit: 50 })).items.map((f) => f.id),
    ).not.toContain(entry?.id);
  });
});

test('two workers share the events: each is delivered once', async () => {
  const r = await receiver();
  await worker(r.url, { name: 'first' });
  await worker(r.url, { name: 'second' });
  const orders = [];
  for (let i = 0; i < 40; i += 1) orders.push(await place());
  const ids = new Set(orders.map((o) => o.id));
  await r.waitFor((x) => x.accepted().filter((e) => ids.has(e.data.order.id)).length >= 40);
  // Give a duplicate time to show up.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const mine = r.requests.filter((e) => ids.has(e.data.order.id));
  expect(mine).toHaveLength(40);
  expect(new Set(mine.map((e) => e.id)).size).toBe(40);
  // Both took part: the work was shared, not done by one while the other idled.
  const senders = mine.flatMap((e) => sentBy.get(e.id) ?? []);
  expect(senders).toHaveLength(40);
  expect(new Set(senders)).toEqual(new Set(['first', 'second']));
});
