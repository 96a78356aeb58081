import { randomUUID } from 'node:crypto';
import { createTestDatabase } from '@keel/platform/testing';
import { TRPCError } from '@trpc/server';
import { sql } from 'kysely';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { createInnerContext } from '../src/context';
import { createCaller, type Order } from '../src/index';
import type { OrderStatus } from '../src/queries/orders';

/** Every query error the pool sees, retried ones included (a retried deadlock is still one). */
const queryErrors: { code: string; sql: string }[] = [];
const testDb = await createTestDatabase({
  db: {
    maxConnections: 20,
    log: (event) => {
      if (event.level === 'error') {
        const code = (event.error as { code?: unknown } | undefined)?.code;
        queryErrors.push({ code: String(code), sql: event.query.sql });
      }
    },
  },
});
afterAll(() => testDb.destroy());
const anonymous = createCaller(createInnerContext({ db: testDb.db }));

type Caller = ReturnType<typeof createCaller>;

async function register(displayName: string) {
  const { user, token } = await anonymous.auth.register({
    email: `${displayName.toLowerCase()}@example.com`,
    password: 'a-long-password',
    displayName,
  });
  // Load: more open orders than a customer may normally hold.
  const settings = { maxPendingOrders: 100_000 };
  return { user, caller: createCaller(createInnerContext({ db: testDb.db, token, settings })) };
}

const customers = await Promise.all(
  Array.from({ length: 10 }, (_, i) => register(`Customer${i + 1}`)),
);
const adminUser = await register('Admin');
await testDb.db
  .updateTable('users')
  .set({ role: 'admin' })
  .where('id', '=', adminUser.user.id)
  .execute();
const admin = adminUser.caller;

function customer(i: number) {
  const found = customers[i % customers.length];
  if (!found) throw new Error('no customers');
  return found;
}

let productCount = 0;
async function makeProducts(stocks: number[]) {
  const rows = stocks.map((stock) => {
    productCount += 1;
    return {
      sku: `CONC-${productCount}`,
      name: `Contended ${productCount}`,
      price_cents: 500,
      stock_quantity: stock,
    };
  });
  const created = await testDb.db
    .insertInto('products')
    .values(rows)
    .returning(['id', 'sku', 'name'])
    .execute();
  return rows.map((row) => {
    const product = created.find((p) => p.sku === row.sku);
    if (!product) throw new Error(`product ${row.sku} was not created`);
    return product;
  });
}

async function stockOf(productId: string): Promise<number> {
  const row = await testDb.db
    .selectFrom('products')
    .select('stock_quantity')
    .where('id', '=', productId)
    .executeTakeFirstOrThrow();
  return row.stock_quantity;
}

/** Units of a product held by orders in the given statuses (default: every order). */
async function unitsSold(productId: string, exceptStatus?: OrderStatus): Promise<number> {
  let query = testDb.db
    .selectFrom('order_items')
    .innerJoin('orders', 'orders.id', 'order_items.order_id')
    .select(sql<number>`coalesce(sum(order_items.quantity), 0)::integer`.as('units'))
    .where('order_items.product_id', '=', productId);
  if (exceptStatus) query = query.where('orders.status', '<>', exceptStatus);
  return (await query.executeTakeFirstOrThrow()).units;
}

function place(caller: Caller, items: { productId: string; quantity: number }[], key?: string) {
  return caller.orders.place({ idempotencyKey: key ?? randomUUID(), items });
}

function rejectionsOf(results: PromiseSettledResult<unknown>[]) {
  return results
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) =>
      r.reason instanceof TRPCError
        ? { code: r.reason.code, message: r.reason.message }
        : { code: 'NOT_A_TRPC_ERROR', message: String(r.reason) },
    );
}

function fulfilledOf<T>(results: PromiseSettledResult<T>[]): T[] {
  return results
    .filter((r): r is PromiseFulfilledResult<Awaited<T>> => r.status === 'fulfilled')
    .map((r) => r.value);
}

beforeEach(() => {
  queryErrors.length = 0;
});

describe('concurrent orders', () => {
  test('50 customers racing for the last 10 units: exactly 10 win, 40 get CONFLICT, stock ends at 0', async () => {
    const [product] = await makeProducts([10]);
    if (!product) throw new Error('setup failed');

    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        place(customer(i).caller, [{ productId: product.id, quantity: 1 }]),
      ),
    );

    const won = fulfilledOf(results);
    const refused = rejectionsOf(results);
    expect(won).toHaveLength(10);
    expect(refused).toHaveLength(40);
    for (const rejection of refused) {
      expect(rejection.code).toBe('CONFLICT');
      expect(rejection.message).toContain(product.sku);
      expect(rejection.message).toMatch(/not enough stock/);
    }
    expect(new Set(won.map((o) => o.id)).size).toBe(10);
    expect(await stockOf(product.id)).toBe(0);

    const orders = await testDb.db
      .selectFrom('orders')
      .innerJoin('order_items', 'order_items.order_id', 'orders.id')
      .select(['orders.id', 'order_items.quantity'])
      .where('order_items.product_id', '=', product.id)
      .execute();
    expect(orders).toHaveLength(10);
    expect(new Set(orders.map((o) => o.id))).toEqual(new Set(won.map((o) => o.id)));
    const items = await testDb.db
      .selectFrom('order_items')
      .select('id')
      .where('product_id', '=', product.id)
      .execute();
    expect(items).toHaveLength(10);
    expect((await unitsSold(product.id)) + (await stockOf(product.id))).toBe(10);
    expect(queryErrors).toEqual([]);
  });

  test('multi-line orders listing the same products in opposite orders never deadlock', async () => {
    const initial = [12, 15, 9, 20, 11];
    const products = await makeProducts(initial);
    const forwards = products.map((p) => p.id);
    const backwards = [...forwards].reverse();

    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => {
        const ids = i % 2 === 0 ? forwards : backwards;
        return place(
          customer(i).caller,
          ids.map((productId, line) => ({ productId, quantity: 1 + ((i + line) % 2) })),
        );
      }),
    );

    for (const rejection of rejectionsOf(results)) {
      expect(rejection.code).toBe('CONFLICT');
      expect(rejection.message).toMatch(/^not enough stock for /);
    }
    // Some orders must get through, or the test would prove nothing about deadlocks.
    const won = fulfilledOf(results);
    expect(won.length).toBeGreaterThan(0);
    expect(won.length).toBeLessThan(30);
    for (const [index, product] of products.entries()) {
      const stock = await stockOf(product.id);
      expect(stock).toBeGreaterThanOrEqual(0);
      expect(stock + (await unitsSold(product.id))).toBe(initial[index]);
      const fromResults = won
        .flatMap((o) => o.items)
        .filter((item) => item.productId === product.id)
        .reduce((sum, item) => sum + item.quantity, 0);
      expect(stock + fromResults).toBe(initial[index]);
    }
    expect(queryErrors.filter((e) => e.code === '40P01')).toEqual([]);
    expect(queryErrors).toEqual([]);
  });

  test('one key replayed 20 times at once makes one order, returned to every call, and takes stock once', async () => {
    const [product] = await makeProducts([100]);
    if (!product) throw new Error('setup failed');
    const key = randomUUID();
    const { caller, user } = customer(0);

    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        place(caller, [{ productId: product.id, quantity: 2 }], key),
      ),
    );

    expect(rejectionsOf(results)).toEqual([]);
    const ids = new Set(fulfilledOf(results).map((o) => o.id));
    expect(ids.size).toBe(1);
    const rows = await testDb.db
      .selectFrom('orders')
      .select('id')
      .where('user_id', '=', user.id)
      .where('idempotency_key', '=', key)
      .execute();
    expect(rows.map((r) => r.id)).toEqual([...ids]);
    expect(await stockOf(product.id)).toBe(98);
  });

  test('one key replayed 20 times at once still answers every call when the order takes the last units', async () => {
    const [product] = await makeProducts([2]);
    if (!product) throw new Error('setup failed');
    const key = randomUUID();
    const { caller, user } = customer(1);

    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        place(caller, [{ productId: product.id, quantity: 2 }], key),
      ),
    );

    // A replay must return the first order, not "not enough stock": the stock
    // is gone because of that very order.
    expect(rejectionsOf(results)).toEqual([]);
    expect(new Set(fulfilledOf(results).map((o) => o.id)).size).toBe(1);
    const rows = await testDb.db
      .selectFrom('orders')
      .select('id')
      .where('user_id', '=', user.id)
      .where('idempotency_key', '=', key)
      .execute();
    expect(rows).toHaveLength(1);
    expect(await stockOf(product.id)).toBe(0);
  });
});

describe('concurrent status changes', () => {
  /**
   * Each order holds 2 units of a product of its own (so its restock is seen
   * alone) and 1 unit of a product every order shares (so the row is contended).
   */
  async function ordersToRace(count: number, startPaid: (i: number) => boolean) {
    const [shared, ...own] = await makeProducts([1000, ...Array.from({ length: count }, () => 10)]);
    if (!shared) throw new Error('setup failed');
    const orders = await Promise.all(
      own.map(async (product, i) => {
        const order = await place(customer(i).caller, [
          { productId: shared.id, quantity: 1 },
          { productId: product.id, quantity: 2 },
        ]);
        if (startPaid(i)) await admin.orders.updateStatus({ id: order.id, status: 'paid' });
        return { order, product, owner: customer(i).caller };
      }),
    );
    return { shared, orders };
  }

  async function statusOf(order: Order): Promise<string> {
    const row = await testDb.db
      .selectFrom('orders')
      .select('status')
      .where('id', '=', order.id)
      .executeTakeFirstOrThrow();
    return row.status;
  }

  test('a customer cancelling while an admin pays or ships restores stock exactly when the order ends cancelled', async () => {
    const count = 24;
    const { shared, orders } = await ordersToRace(count, (i) => i % 2 === 1);

    const races = await Promise.all(
      orders.map(async ({ order, owner }, i) => {
        const next = i % 2 === 1 ? 'shipped' : 'paid';
        // Alternate which call starts first.
        const calls =
          i % 4 < 2
            ? [
                owner.orders.cancel({ id: order.id }),
                admin.orders.updateStatus({ id: order.id, status: next }),
              ]
            : [
                admin.orders.updateStatus({ id: order.id, status: next }),
                owner.orders.cancel({ id: order.id }),
              ];
        return Promise.allSettled(calls);
      }),
    );

    let notCancelled = 0;
    for (const [i, { order, product }] of orders.entries()) {
      const status = await statusOf(order);
      const results = races[i] ?? [];
      for (const rejection of rejectionsOf(results)) {
        expect(rejection.code).toBe('BAD_REQUEST');
        expect(rejection.message).toMatch(/^an order cannot move from \w+ to \w+$/);
      }
      if (i % 2 === 1) {
        // Paid: exactly one of cancel and ship wins.
        expect(fulfilledOf(results)).toHaveLength(1);
        expect(['cancelled', 'shipped']).toContain(status);
      } else {
        // Pending: paying first still lets the cancel through.
        expect(['cancelled', 'paid']).toContain(status);
      }
      const stock = await stockOf(product.id);
      expect(stock).toBe(status === 'cancelled' ? 10 : 8);
      if (status !== 'cancelled') notCancelled += 1;
    }
    expect(await stockOf(shared.id)).toBe(1000 - notCancelled);
    expect((await stockOf(shared.id)) + (await unitsSold(shared.id, 'cancelled'))).toBe(1000);
    expect(queryErrors).toEqual([]);
  });

  test('cancelling one order three times at once (twice by its owner, once by an admin) restores stock once', async () => {
    const count = 12;
    const { shared, orders } = await ordersToRace(count, (i) => i % 3 === 0);

    const races = await Promise.all(
      orders.map(({ order, owner }) =>
        Promise.allSettled([
          owner.orders.cancel({ id: order.id }),
          admin.orders.updateStatus({ id: order.id, status: 'cancelled' }),
          owner.orders.cancel({ id: order.id }),
        ]),
      ),
    );

    for (const [i, { order, product }] of orders.entries()) {
      const results = races[i] ?? [];
      expect(fulfilledOf(results)).toHaveLength(1);
      expect(rejectionsOf(results)).toEqual([
        { code: 'BAD_REQUEST', message: 'an order cannot move from cancelled to cancelled' },
        { code: 'BAD_REQUEST', message: 'an order cannot move from cancelled to cancelled' },
      ]);
      expect(await statusOf(order)).toBe('cancelled');
      expect(await stockOf(product.id)).toBe(10);
    }
    expect(await stockOf(shared.id)).toBe(1000);
    expect(queryErrors).toEqual([]);
  });

  test('cancelling while new orders take the same products keeps every unit accounted for', async () => {
    const [product] = await makeProducts([40]);
    if (!product) throw new Error('setup failed');
    const first = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        place(customer(i).caller, [{ productId: product.id, quantity: 2 }]),
      ),
    );
    // 20 units left; 20 cancellations hand 20 back while 20 new orders want 2 each.
    const results = await Promise.allSettled([
      ...first.map((order, i) => customer(i).caller.orders.cancel({ id: order.id })),
      ...Array.from({ length: 20 }, (_, i) =>
        place(customer(i).caller, [{ productId: product.id, quantity: 2 }]),
      ),
    ]);
    for (const rejection of rejectionsOf(results)) {
      expect(rejection.code).toBe('CONFLICT');
      expect(rejection.message).toMatch(/^not enough stock for /);
    }
    expect(results.slice(0, 10).every((r) => r.status === 'fulfilled')).toBe(true);
    const stock = await stockOf(product.id);
    expect(stock).toBeGreaterThanOrEqual(0);
    expect(stock + (await unitsSold(product.id, 'cancelled'))).toBe(40);
    expect(queryErrors).toEqual([]);
  });
});
