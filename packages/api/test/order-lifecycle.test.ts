// Paying, cancelling and expiring orders: the moves that put stock back or
// make an order final, alone and racing each other. Each race runs many
// times on real PostgreSQL; the assertions are on the rows, not on timing.
import { randomUUID } from 'node:crypto';
import { createTestDatabase, createUser, makeProduct } from '@keel/platform/testing';
import { TRPCError } from '@trpc/server';
import { sql } from 'kysely';
import { afterAll, describe, expect, test } from 'vitest';
import type { ZodError } from 'zod';
import { createInnerContext } from '../src/context';
import { createCaller } from '../src/index';
import { expireOverdueOrders } from '../src/jobs';
import { fieldErrorsOf } from '../src/trpc';

const testDb = await createTestDatabase({ db: { maxConnections: 12 } });
afterAll(() => testDb.destroy());
const { db } = testDb;

const goodCard = { number: '4242 4242 4242 4242', expiryMonth: 12, expiryYear: 2099, cvc: '123' };
const settings = { maxPendingOrders: 100_000 };
const customer = await createUser(db, { label: 'payer' });
const admin = await createUser(db, { label: 'boss', role: 'admin' });
const asCustomer = createCaller(createInnerContext({ db, token: customer.token, settings }));
const asAdmin = createCaller(createInnerContext({ db, token: admin.token, settings }));

async function placeOne(productId: string, quantity = 2) {
  return asCustomer.orders.place({
    idempotencyKey: randomUUID(),
    items: [{ productId, quantity }],
  });
}

/** Backdates an order so that the expiry job finds it overdue. */
async function age(orderId: string, seconds: number) {
  await sql`update orders set placed_at = now() - make_interval(secs => ${seconds}) where id = ${orderId}`.execute(
    db,
  );
}

async function stockOf(productId: string) {
  const row = await db
    .selectFrom('products')
    .select('stock_quantity')
    .where('id', '=', productId)
    .executeTakeFirstOrThrow();
  return row.stock_quantity;
}

async function eventsOf(orderId: string) {
  return db
    .selectFrom('keel_jobs.order_events')
    .select(['type', 'data'])
    .where('order_id', '=', orderId)
    .orderBy('position')
    .execute();
}

async function trpcCode(promise: Promise<unknown>) {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    if (error instanceof TRPCError) return error.code;
    throw error;
  }
}

describe('orders.pay', () => {
  test('an approved card moves the order from pending to paid, records the payment, and writes order.status_changed', async () => {
    const product = await makeProduct(db, { priceCents: 750 });
    const order = await placeOne(product.id);
    const paid = await asCustomer.orders.pay({ id: order.id, card: goodCard });
    expect(paid.status).toBe('paid');
    const payments = await db
      .selectFrom('payments')
      .select(['status', 'amount_cents', 'card_last4', 'provider', 'provider_reference'])
      .where('order_id', '=', order.id)
      .execute();
    expect(payments).toEqual([
      {
        status: 'approved',
        amount_cents: 1500,
        card_last4: '4242',
        provider: 'test',
        provider_reference: expect.stringMatching(/^test_ch_/),
      },
    ]);
    const events = await eventsOf(order.id);
    expect(events.map((e) => e.type)).toEqual(['order.placed', 'order.status_changed']);
    expect(events[1]?.data).toMatchObject({
      previousStatus: 'pending',
      order: { id: order.id, status: 'paid' },
    });
  });

  test('a declined card is refused with PAYMENT_REQUIRED and the reason; the attempt is recorded and the order stays pending', async () => {
    const product = await makeProduct(db);
    const order = await placeOne(product.id);
    const refusal = await asCustomer.orders
      .pay({ id: order.id, card: { ...goodCard, number: '4000000000009995' } })
      .catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(TRPCError);
    expect((refusal as TRPCError).code).toBe('PAYMENT_REQUIRED');
    expect((refusal as TRPCError).message).toContain('insufficient funds');
    const order2 = await asCustomer.orders.byId({ id: order.id });
    expect(order2.status).toBe('pending');
    const payments = await db
      .selectFrom('payments')
      .select(['status', 'decline_reason'])
      .where('order_id', '=', order.id)
      .execute();
    expect(payments).toEqual([{ status: 'declined', decline_reason: 'insufficient_funds' }]);
  });

  test('bad card input names the field; nothing is recorded', async () => {
    const product = await makeProduct(db);
    const order = await placeOne(product.id);
    const refusal = await asCustomer.orders
      .pay({ id: order.id, card: { ...goodCard, number: '4242 4242 4242 4241' } })
      .catch((e: unknown) => e as TRPCError);
    expect(refusal).toBeInstanceOf(TRPCError);
    expect((refusal as TRPCError).code).toBe('BAD_REQUEST');
    // The zod issue names the field; the error formatter keys it by its whole path.
    expect(fieldErrorsOf((refusal as TRPCError).cause as ZodError).fieldErrors).toEqual({
      'card.number': ['is not a valid card number (check digit)'],
    });
    const issues = JSON.parse((refusal as TRPCError).message) as {
      path: string[];
      message: string;
    }[];
    expect(issues).toEqual([
      expect.objectContaining({
        path: ['card', 'number'],
        message: expect.stringContaining('check digit'),
      }),
    ]);
    const count = await db
      .selectFrom('payments')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('order_id', '=', order.id)
      .executeTakeFirstOrThrow();
    expect(count.n).toBe(0);
  });

  test("a paid order cannot be paid twice, and another customer's order is NOT_FOUND", async () => {
    const product = await makeProduct(db);
    const order = await placeOne(product.id);
    await asCustomer.orders.pay({ id: order.id, card: goodCard });
    expect(await trpcCode(asCustomer.orders.pay({ id: order.id, card: goodCard }))).toBe(
      'CONFLICT',
    );
    const stranger = await createUser(db, { label: 'stranger' });
    const asStranger = createCaller(createInnerContext({ db, token: stranger.token }));
    expect(await trpcCode(asStranger.orders.pay({ id: order.id, card: goodCard }))).toBe(
      'NOT_FOUND',
    );
  });
});

describe('expiring unpaid orders', () => {
  test('an overdue pending order is cancelled, its stock is back, and its event is order.expired', async () => {
    const product = await makeProduct(db, { stockQuantity: 10 });
    const order = await placeOne(product.id, 3);
    expect(await stockOf(product.id)).toBe(7);
    await age(order.id, 120);
    const expired = await expireOverdueOrders(db, { ttlSeconds: 60 });
    expect(expired).toContain(order.id);
    expect((await asCustomer.orders.byId({ id: order.id })).status).toBe('cancelled');
    expect((await asCustomer.products.byId({ id: product.id })).stockQuantity).toBe(10);
    expect((await eventsOf(order.id)).map((e) => e.type)).toEqual([
      'order.placed',
      'order.expired',
    ]);
  });

  test('orders younger than the TTL, paid orders and cancelled ones are left alone', async () => {
    const product = await makeProduct(db, { stockQuantity: 10 });
    const young = await placeOne(product.id, 1);
    const paid = await placeOne(product.id, 1);
    await asCustomer.orders.pay({ id: paid.id, card: goodCard });
    const cancelled = await placeOne(product.id, 1);
    await asCustomer.orders.cancel({ id: cancelled.id });
    await age(paid.id, 120);
    await age(cancelled.id, 120);
    const expired = await expireOverdueOrders(db, { ttlSeconds: 60 });
    expect(expired).not.toContain(young.id);
    expect(expired).not.toContain(paid.id);
    expect(expired).not.toContain(cancelled.id);
    expect(await stockOf(product.id)).toBe(8);
  });

  test('an order cancelled by its customer cannot expire afterwards, nor be paid', async () => {
    const product = await makeProduct(db);
    const order = await placeOne(product.id);
    await asCustomer.orders.cancel({ id: order.id });
    expect(await trpcCode(asCustomer.orders.pay({ id: order.id, card: goodCard }))).toBe(
      'BAD_REQUEST',
    );
  });
});

describe('races, each run many times: stock is restored exactly once and a paid order is never expired', () => {
  const rounds = 25;

  test('expiry against the customer cancelling', async () => {
    const product = await makeProduct(db, { stockQuantity: 1_000 });
    for (let round = 0; round < rounds; round += 1) {
      const order = await placeOne(product.id, 2);
      await age(order.id, 120);
      const [expired] = await Promise.all([
        expireOverdueOrders(db, { ttlSeconds: 60 }),
        asCustomer.orders.cancel({ id: order.id }).catch(() => null),
      ]);
      void expired;
      const events = (await eventsOf(order.id)).map((e) => e.type);
      // Exactly one of the two won, and wrote the one event that says so.
      expect(events).toHaveLength(2);
      expect(['order.cancelled', 'order.expired']).toContain(events[1]);
      expect((await asCustomer.orders.byId({ id: order.id })).status).toBe('cancelled');
    }
    expect(await stockOf(product.id)).toBe(1_000);
  });

  test('expiry against paying, and against an admin moving the order to paid', async () => {
    const product = await makeProduct(db, { stockQuantity: 1_000 });
    let paidCount = 0;
    for (let round = 0; round < rounds; round += 1) {
      const order = await placeOne(product.id, 1);
      await age(order.id, 120);
      const payment =
        round % 2 === 0
          ? asCustomer.orders.pay({ id: order.id, card: goodCard })
          : asAdmin.orders.updateStatus({ id: order.id, status: 'paid' });
      const [paid] = await Promise.all([
        payment.then(
          () => true,
          () => false,
        ),
        expireOverdueOrders(db, { ttlSeconds: 60 }),
      ]);
      const status = (await asCustomer.orders.byId({ id: order.id })).status;
      // Either the payment won (and the order stays paid) or the expiry did.
      expect(status).toBe(paid ? 'paid' : 'cancelled');
      if (paid) paidCount += 1;
    }
    // Paid orders keep their stock; expired ones gave it back, once.
    expect(await stockOf(product.id)).toBe(1_000 - paidCount);
    // The expiry won at least once, so that side of the race was exercised.
    expect(paidCount).toBeLessThan(rounds);
  });

  test('expiry while a payment holds the order (a slow provider): the order is paid, never expired', async () => {
    const product = await makeProduct(db, { stockQuantity: 1_000 });
    let charging: () => void = () => {};
    const slowProvider = {
      name: 'test',
      async charge() {
        charging();
        await new Promise((resolve) => setTimeout(resolve, 100));
        return { status: 'approved' as const, reference: `slow_${randomUUID()}` };
      },
    };
    const asSlowPayer = createCaller(
      createInnerContext({ db, token: customer.token, settings, payments: slowProvider }),
    );
    for (let round = 0; round < 10; round += 1) {
      const order = await placeOne(product.id, 1);
      await age(order.id, 120);
      const inCharge = new Promise<void>((resolve) => (charging = resolve));
      const payment = asSlowPayer.orders.pay({ id: order.id, card: goodCard });
      // The expiry runs while the payment's transaction holds the order.
      await inCharge;
      const expired = await expireOverdueOrders(db, { ttlSeconds: 60 });
      expect(expired).not.toContain(order.id);
      expect((await payment).status).toBe('paid');
      expect((await expireOverdueOrders(db, { ttlSeconds: 60 })).includes(order.id)).toBe(false);
    }
    expect(await stockOf(product.id)).toBe(1_000 - 10);
  });

  test('two workers expiring the same orders at once', async () => {
    const product = await makeProduct(db, { stockQuantity: 1_000 });
    const orders = [];
    for (let i = 0; i < rounds; i += 1) orders.push(await placeOne(product.id, 3));
    for (const order of orders) await age(order.id, 120);
    const [first, second] = await Promise.all([
      expireOverdueOrders(db, { ttlSeconds: 60, limit: 1_000 }),
      expireOverdueOrders(db, { ttlSeconds: 60, limit: 1_000 }),
    ]);
    const ids = orders.map((o) => o.id);
    const all = [...first, ...second].filter((id) => ids.includes(id));
    // Each order expired by exactly one of them.
    expect(all.sort()).toEqual([...ids].sort());
    expect(await stockOf(product.id)).toBe(1_000);
    for (const id of ids) {
      expect((await eventsOf(id)).map((e) => e.type)).toEqual(['order.placed', 'order.expired']);
    }
  });
});

test('every order event carries the order as the API shows it, items included, in the same transaction as the change', async () => {
  const product = await makeProduct(db, { priceCents: 300, name: 'Enamel mug' });
  const order = await placeOne(product.id, 2);
  const [placed] = await eventsOf(order.id);
  expect(placed?.type).toBe('order.placed');
  expect(placed?.data).toEqual({
    order: {
      id: order.id,
      userId: customer.id,
      status: 'pending',
      totalCents: 600,
      currency: 'USD',
      idempotencyKey: order.idempotencyKey,
      placedAt: expect.any(String),
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      items: [
        {
          id: order.items[0]?.id,
          productId: product.id,
          productName: 'Enamel mug',
          quantity: 2,
          unitPriceCents: 300,
        },
      ],
    },
  });
  const snapshot = placed?.data as { order: { placedAt: string } } | undefined;
  expect(new Date(snapshot?.order.placedAt ?? 0)).toEqual(order.placedAt);
  // A refused change writes nothing: the event is part of the change's transaction.
  const before = (await eventsOf(order.id)).length;
  await asCustomer.orders.cancel({ id: order.id });
  expect(await trpcCode(asCustomer.orders.cancel({ id: order.id }))).toBe('BAD_REQUEST');
  expect((await eventsOf(order.id)).length).toBe(before + 1);
});
