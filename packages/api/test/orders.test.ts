import { randomUUID } from 'node:crypto';
import { createTestDatabase } from '@keel/platform/testing';
import { TRPCError } from '@trpc/server';
import { sql } from 'kysely';
import { afterAll, describe, expect, test } from 'vitest';
import { createInnerContext } from '../src/context';
import { createCaller, type Order } from '../src/index';

const testDb = await createTestDatabase({ db: { maxConnections: 20 } });
afterAll(() => testDb.destroy());
const anonymous = createCaller(createInnerContext({ db: testDb.db }));

type Caller = ReturnType<typeof createCaller>;

let userCount = 0;
async function register(displayName: string) {
  userCount += 1;
  const { user, token } = await anonymous.auth.register({
    email: `${displayName.toLowerCase()}-${userCount}@example.com`,
    password: 'a-long-password',
    displayName,
  });
  // These customers hold more than five open orders: the cap is hardening.test.ts's concern.
  const settings = { maxPendingOrders: 1_000 };
  return { user, caller: createCaller(createInnerContext({ db: testDb.db, token, settings })) };
}

const [alice, bob, adminUser] = await Promise.all([
  register('Alice'),
  register('Bob'),
  register('Admin'),
]);
await testDb.db
  .updateTable('users')
  .set({ role: 'admin' })
  .where('id', '=', adminUser.user.id)
  .execute();
const admin = adminUser.caller;

let productCount = 0;
async function makeProducts(
  specs: {
    name?: string;
    priceCents?: number;
    stock?: number;
    currency?: string;
    isActive?: boolean;
  }[],
) {
  const rows = specs.map((spec) => {
    productCount += 1;
    return {
      sku: `SKU-${productCount}`,
      name: spec.name ?? `Product ${productCount}`,
      price_cents: spec.priceCents ?? 1000,
      stock_quantity: spec.stock ?? 100,
      currency: spec.currency ?? 'USD',
      is_active: spec.isActive ?? true,
    };
  });
  // One insert: the uuidv7 ids grow in the order of `specs`.
  const created = await testDb.db
    .insertInto('products')
    .values(rows)
    .returning(['id', 'sku', 'name', 'price_cents as priceCents'])
    .execute();
  return rows.map((row) => {
    const product = created.find((p) => p.sku === row.sku);
    if (!product) throw new Error(`product ${row.sku} was not created`);
    return product;
  });
}

async function makeProduct(spec: Parameters<typeof makeProducts>[0][number] = {}) {
  const [product] = await makeProducts([spec]);
  if (!product) throw new Error('the product was not created');
  return product;
}

async function stockOf(productIds: string[]): Promise<number[]> {
  const rows = await testDb.db
    .selectFrom('products')
    .select(['id', 'stock_quantity'])
    .where('id', 'in', productIds)
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r.stock_quantity]));
  return productIds.map((id) => byId.get(id) ?? Number.NaN);
}

async function rowCounts(): Promise<{ orders: number; items: number }> {
  const row = await sql<{ orders: number; items: number }>`
    select (select count(*) from orders) as orders, (select count(*) from order_items) as items`
    .execute(testDb.db)
    .then((r) => r.rows[0]);
  if (!row) throw new Error('count query returned no row');
  return row;
}

/** The code and message of a refused call; fails the test if the call succeeded. */
async function failure(call: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof TRPCError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected the call to be refused, but it succeeded');
}

function place(caller: Caller, items: { productId: string; quantity: number }[], key?: string) {
  return caller.orders.place({ idempotencyKey: key ?? randomUUID(), items });
}

function byProduct(items: Order['items']) {
  return [...items].sort((a, b) => (a.productId < b.productId ? -1 : 1));
}

async function moveTo(orderId: string, path: ('paid' | 'shipped' | 'delivered' | 'cancelled')[]) {
  for (const status of path) await admin.orders.updateStatus({ id: orderId, status });
}

describe('orders.place', () => {
  test('a placed order is pending, totals the prices of the moment and snapshots every line', async () => {
    const [lamp, bulb] = await makeProducts([
      { name: 'Desk Lamp', priceCents: 1250, stock: 10, currency: 'EUR' },
      { name: 'Bulb', priceCents: 399, stock: 5, currency: 'EUR' },
    ]);
    if (!lamp || !bulb) throw new Error('setup failed');
    const key = randomUUID();
    const order = await place(
      alice.caller,
      [
        { productId: bulb.id, quantity: 3 },
        { productId: lamp.id, quantity: 2 },
      ],
      key,
    );
    expect(order).toMatchObject({
      userId: alice.user.id,
      status: 'pending',
      totalCents: 1250 * 2 + 399 * 3,
      currency: 'EUR',
      idempotencyKey: key,
    });
    expect(order.placedAt).toBeInstanceOf(Date);
    expect(byProduct(order.items)).toEqual(
      byProduct([
        {
          id: expect.any(String),
          productId: lamp.id,
          productName: 'Desk Lamp',
          quantity: 2,
          unitPriceCents: 1250,
        },
        {
          id: expect.any(String),
          productId: bulb.id,
          productName: 'Bulb',
          quantity: 3,
          unitPriceCents: 399,
        },
      ] as Order['items']),
    );
    expect(await stockOf([lamp.id, bulb.id])).toEqual([8, 2]);
  });

  test("later price and name changes do not change an order's items or total", async () => {
    const product = await makeProduct({ name: 'Teapot', priceCents: 2000, stock: 5 });
    const order = await place(alice.caller, [{ productId: product.id, quantity: 2 }]);
    await admin.products.update({ id: product.id, priceCents: 9999, name: 'Teapot Deluxe' });

    const again = await alice.caller.orders.byId({ id: order.id });
    expect(again.totalCents).toBe(4000);
    expect(again.items).toEqual([
      expect.objectContaining({ productName: 'Teapot', unitPriceCents: 2000, quantity: 2 }),
    ]);
    const listed = (await alice.caller.orders.list({ limit: 100 })).items.find(
      (o) => o.id === order.id,
    );
    expect(listed?.items).toEqual(again.items);
    // A new order takes the new price and name.
    const later = await place(alice.caller, [{ productId: product.id, quantity: 1 }]);
    expect(later.totalCents).toBe(9999);
    expect(later.items[0]).toMatchObject({ productName: 'Teapot Deluxe', unitPriceCents: 9999 });
  });

  test.each([
    ['listed second', false],
    ['listed first', true],
  ])(
    'when the short product (%s) runs out of stock, the order is refused naming it and nothing is written',
    async (_, reversed) => {
      const [plenty, short] = await makeProducts([
        { name: 'Plenty Widget', stock: 50 },
        { name: 'Short Widget', stock: 1 },
      ]);
      if (!plenty || !short) throw new Error('setup failed');
      const lines = [
        { productId: plenty.id, quantity: 2 },
        { productId: short.id, quantity: 2 },
      ];
      const before = await rowCounts();
      const key = randomUUID();

      const refused = await failure(place(alice.caller, reversed ? lines.reverse() : lines, key));
      expect(refused.code).toBe('CONFLICT');
      expect(refused.message).toContain('Short Widget');
      expect(refused.message).toContain(short.sku);
      expect(refused.message).not.toContain('Plenty Widget');

      expect(await rowCounts()).toEqual(before);
      expect(await stockOf([plenty.id, short.id])).toEqual([50, 1]);
      const withKey = await testDb.db
        .selectFrom('orders')
        .select('id')
        .where('idempotency_key', '=', key)
        .execute();
      expect(withKey).toEqual([]);
      // The key was not used up: the same key with an order that fits succeeds.
      const fits = await place(alice.caller, [{ productId: short.id, quantity: 1 }], key);
      expect(fits.status).toBe('pending');
    },
  );

  test('an order for exactly the remaining stock succeeds and leaves zero', async () => {
    const product = await makeProduct({ stock: 3 });
    await place(alice.caller, [{ productId: product.id, quantity: 3 }]);
    expect(await stockOf([product.id])).toEqual([0]);
    expect(
      (await failure(place(alice.caller, [{ productId: product.id, quantity: 1 }]))).code,
    ).toBe('CONFLICT');
    expect(await stockOf([product.id])).toEqual([0]);
  });

  test('a product id written in upper case names the same product', async () => {
    const product = await makeProduct({ stock: 5 });
    const order = await place(alice.caller, [{ productId: product.id.toUpperCase(), quantity: 1 }]);
    expect(order.items).toEqual([expect.objectContaining({ productId: product.id, quantity: 1 })]);
    expect(await stockOf([product.id])).toEqual([4]);
  });

  test.each([
    ['an inactive', 'inactive'],
    ['a deleted', 'deleted'],
    ['an unknown', 'unknown'],
  ] as const)('an order with %s product is NOT_FOUND and nothing is written', async (_, kind) => {
    const good = await makeProduct({ stock: 20 });
    let badId: string = randomUUID();
    if (kind !== 'unknown') {
      const bad = await makeProduct({ stock: 20, isActive: kind !== 'inactive' });
      badId = bad.id;
      if (kind === 'deleted') {
        await testDb.db
          .updateTable('products')
          .set({ deleted_at: sql`current_timestamp` })
          .where('id', '=', bad.id)
          .execute();
      }
    }
    const before = await rowCounts();

    const refused = await failure(
      place(alice.caller, [
        { productId: good.id, quantity: 1 },
        { productId: badId, quantity: 1 },
      ]),
    );
    expect(refused.code).toBe('NOT_FOUND');
    expect(refused.message).toContain(badId);

    expect(await rowCounts()).toEqual(before);
    expect(await stockOf([good.id])).toEqual([20]);
    if (kind !== 'unknown') expect(await stockOf([badId])).toEqual([20]);
  });

  describe('malformed orders are BAD_REQUEST and write nothing', async () => {
    const catalogue = await makeProducts(Array.from({ length: 51 }, () => ({ stock: 10 })));
    const [first] = catalogue;
    if (!first) throw new Error('setup failed');
    const line = (quantity = 1) => ({ productId: first.id, quantity });

    test.each([
      ['no items', { idempotencyKey: randomUUID(), items: [] }],
      [
        '51 items',
        {
          idempotencyKey: randomUUID(),
          items: catalogue.map((p) => ({ productId: p.id, quantity: 1 })),
        },
      ],
      ['the same product twice', { idempotencyKey: randomUUID(), items: [line(), line(2)] }],
      ['quantity 0', { idempotencyKey: randomUUID(), items: [line(0)] }],
      ['a negative quantity', { idempotencyKey: randomUUID(), items: [line(-1)] }],
      ['a fractional quantity', { idempotencyKey: randomUUID(), items: [line(1.5)] }],
      ['quantity 10001', { idempotencyKey: randomUUID(), items: [line(10_001)] }],
      ['an idempotencyKey that is not a UUID', { idempotencyKey: 'order-1', items: [line()] }],
      [
        'a productId that is not a UUID',
        { idempotencyKey: randomUUID(), items: [{ productId: 'lamp', quantity: 1 }] },
      ],
    ])('%s', async (_, input) => {
      const before = await rowCounts();
      const stock = await stockOf(catalogue.map((p) => p.id));
      expect((await failure(alice.caller.orders.place(input))).code).toBe('BAD_REQUEST');
      expect(await rowCounts()).toEqual(before);
      expect(await stockOf(catalogue.map((p) => p.id))).toEqual(stock);
    });

    test('an order of 50 lines is still accepted', async () => {
      const fifty = catalogue.slice(0, 50);
      const order = await place(
        bob.caller,
        fifty.map((p) => ({ productId: p.id, quantity: 1 })),
      );
      expect(order.items).toHaveLength(50);
      expect(order.totalCents).toBe(fifty.reduce((sum, p) => sum + p.priceCents, 0));
    });
  });

  test('replaying a key with the same items in another order returns the same order and takes stock once', async () => {
    const [a, b] = await makeProducts([{ stock: 10 }, { stock: 10 }]);
    if (!a || !b) throw new Error('setup failed');
    const key = randomUUID();
    const first = await place(
      alice.caller,
      [
        { productId: a.id, quantity: 1 },
        { productId: b.id, quantity: 2 },
      ],
      key,
    );
    const before = await rowCounts();
    const replayed = await place(
      alice.caller,
      [
        { productId: b.id, quantity: 2 },
        { productId: a.id, quantity: 1 },
      ],
      key,
    );
    expect(replayed.id).toBe(first.id);
    expect(replayed).toEqual(first);
    expect(await stockOf([a.id, b.id])).toEqual([9, 8]);
    expect(await rowCounts()).toEqual(before);
  });

  test('replaying a key after the stock ran out still returns the first order', async () => {
    const product = await makeProduct({ stock: 2 });
    const key = randomUUID();
    const first = await place(alice.caller, [{ productId: product.id, quantity: 2 }], key);
    const replayed = await place(alice.caller, [{ productId: product.id, quantity: 2 }], key);
    expect(replayed.id).toBe(first.id);
    expect(await stockOf([product.id])).toEqual([0]);
  });

  test.each([
    ['another quantity', (a: string, _b: string) => [{ productId: a, quantity: 2 }]],
    ['another product', (_a: string, b: string) => [{ productId: b, quantity: 1 }]],
    [
      'an extra line',
      (a: string, b: string) => [
        { productId: a, quantity: 1 },
        { productId: b, quantity: 1 },
      ],
    ],
  ])('reusing a key with %s is a CONFLICT and writes nothing', async (_, otherLines) => {
    const [a, b] = await makeProducts([{ stock: 10 }, { stock: 10 }]);
    if (!a || !b) throw new Error('setup failed');
    const key = randomUUID();
    await place(alice.caller, [{ productId: a.id, quantity: 1 }], key);
    const before = await rowCounts();

    const refused = await failure(place(alice.caller, otherLines(a.id, b.id), key));
    expect(refused.code).toBe('CONFLICT');
    expect(refused.message).toMatch(/idempotencyKey/);
    expect(await rowCounts()).toEqual(before);
    expect(await stockOf([a.id, b.id])).toEqual([9, 10]);
  });

  test("the same key used by another customer creates that customer's own order", async () => {
    const product = await makeProduct({ stock: 10 });
    const key = randomUUID();
    const lines = [{ productId: product.id, quantity: 3 }];
    const mine = await place(alice.caller, lines, key);
    const theirs = await place(bob.caller, lines, key);
    expect(theirs.id).not.toBe(mine.id);
    expect(theirs.userId).toBe(bob.user.id);
    expect(mine.userId).toBe(alice.user.id);
    expect(await stockOf([product.id])).toEqual([4]);
    await expect(bob.caller.orders.byId({ id: theirs.id })).resolves.toMatchObject({
      idempotencyKey: key,
    });
  });

  test('placing an order needs a signed-in user', async () => {
    const product = await makeProduct();
    expect((await failure(place(anonymous, [{ productId: product.id, quantity: 1 }]))).code).toBe(
      'UNAUTHORIZED',
    );
  });
});

describe('orders.list', async () => {
  const carol = await register('Carol');
  const product = await makeProduct({ stock: 1000, priceCents: 100 });
  // Placed one after another, so each has a later created_at than the one before.
  const placed: Order[] = [];
  for (let i = 1; i <= 5; i += 1) {
    placed.push(await place(carol.caller, [{ productId: product.id, quantity: i }]));
  }
  await place(bob.caller, [{ productId: product.id, quantity: 1 }]);

  test("a customer's orders come newest first, each with its items, and no one else's", async () => {
    const page = await carol.caller.orders.list({ limit: 20 });
    expect(page.items.map((o) => o.id)).toEqual(placed.map((o) => o.id).reverse());
    expect(page.items.map((o) => o.items)).toEqual(placed.map((o) => o.items).reverse());
    expect(page.items.map((o) => o.totalCents)).toEqual([500, 400, 300, 200, 100]);
    expect(page.nextCursor).toBeNull();
  });

  test('the status filter returns only orders in that status', async () => {
    const [o1, o2, o3] = placed;
    if (!o1 || !o2 || !o3) throw new Error('setup failed');
    await moveTo(o1.id, ['paid']);
    await moveTo(o2.id, ['paid', 'shipped']);
    await carol.caller.orders.cancel({ id: o3.id });

    const ids = async (status: 'pending' | 'paid' | 'shipped' | 'delivered' | 'cancelled') =>
      (await carol.caller.orders.list({ status })).items.map((o) => o.id);
    expect(await ids('paid')).toEqual([o1.id]);
    expect(await ids('shipped')).toEqual([o2.id]);
    expect(await ids('cancelled')).toEqual([o3.id]);
    expect(await ids('delivered')).toEqual([]);
    expect(await ids('pending')).toEqual(
      placed
        .slice(3)
        .map((o) => o.id)
        .reverse(),
    );
    const paid = await carol.caller.orders.list({ status: 'paid' });
    expect(paid.items.every((o) => o.status === 'paid' && o.items.length === 1)).toBe(true);
  });

  test('a keyset walk with limit 2 sees every order exactly once, in order', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await carol.caller.orders.list({ limit: 2, cursor });
      pages += 1;
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((o) => o.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(placed.map((o) => o.id).reverse());
  });

  test('orders created at the same instant are still each seen exactly once', async () => {
    const dave = await register('Dave');
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push((await place(dave.caller, [{ productId: product.id, quantity: 1 }])).id);
    }
    await testDb.db
      .updateTable('orders')
      .set({ created_at: sql`'2025-01-01 12:00:00.123456+00'::timestamptz` })
      .where('user_id', '=', dave.user.id)
      .execute();
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await dave.caller.orders.list({ limit: 2, cursor });
      pages += 1;
      seen.push(...page.items.map((o) => o.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor && pages < 10);
    expect(seen).toHaveLength(5);
    expect(new Set(seen)).toEqual(new Set(ids));
    // Ties on created_at fall back to id, newest (largest uuidv7) first.
    expect(seen).toEqual([...ids].sort().reverse());
  });

  test('a tampered cursor is BAD_REQUEST', async () => {
    const cursor = Buffer.from(JSON.stringify({ s: 'orders.newest', v: ['x', 'y'] })).toString(
      'base64url',
    );
    expect((await failure(carol.caller.orders.list({ limit: 2, cursor }))).code).toBe(
      'BAD_REQUEST',
    );
  });

  test("customers cannot list other users' orders; admins can", async () => {
    expect((await failure(carol.caller.orders.list({ userId: bob.user.id }))).code).toBe(
      'FORBIDDEN',
    );
    expect((await failure(carol.caller.orders.list({ allUsers: true }))).code).toBe('FORBIDDEN');
    const asAdmin = await admin.orders.list({ userId: carol.user.id, limit: 100 });
    expect(asAdmin.items.map((o) => o.id)).toEqual(placed.map((o) => o.id).reverse());
  });
});

describe('orders.byId', async () => {
  const [a, b] = await makeProducts([{ stock: 10 }, { stock: 10 }]);
  if (!a || !b) throw new Error('setup failed');
  const order = await place(alice.caller, [
    { productId: a.id, quantity: 1 },
    { productId: b.id, quantity: 2 },
  ]);

  test('returns the order with its items to its owner', async () => {
    const found = await alice.caller.orders.byId({ id: order.id });
    expect(found).toEqual(order);
    expect(found.items).toHaveLength(2);
  });

  test("another customer's order is NOT_FOUND, as is an unknown id", async () => {
    expect(await failure(bob.caller.orders.byId({ id: order.id }))).toEqual({
      code: 'NOT_FOUND',
      message: 'order not found',
    });
    expect((await failure(alice.caller.orders.byId({ id: randomUUID() }))).code).toBe('NOT_FOUND');
  });

  test('an admin sees any order', async () => {
    expect((await admin.orders.byId({ id: order.id })).id).toBe(order.id);
  });
});

describe('orders.cancel', () => {
  async function twoLineOrder() {
    const [a, b] = await makeProducts([{ stock: 10 }, { stock: 7 }]);
    if (!a || !b) throw new Error('setup failed');
    const order = await place(alice.caller, [
      { productId: a.id, quantity: 3 },
      { productId: b.id, quantity: 7 },
    ]);
    expect(await stockOf([a.id, b.id])).toEqual([7, 0]);
    return { order, productIds: [a.id, b.id] };
  }

  test.each([
    ['pending', []],
    ['paid', ['paid']],
  ] as const)('cancelling a %s order puts every line back into stock exactly', async (_, path) => {
    const { order, productIds } = await twoLineOrder();
    await moveTo(order.id, [...path]);
    const cancelled = await alice.caller.orders.cancel({ id: order.id });
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.items).toEqual(order.items);
    expect(await stockOf(productIds)).toEqual([10, 7]);
    expect((await alice.caller.orders.byId({ id: order.id })).status).toBe('cancelled');
  });

  test.each([
    ['shipped', ['paid', 'shipped'], [7, 0]],
    ['delivered', ['paid', 'shipped', 'delivered'], [7, 0]],
    ['cancelled', ['cancelled'], [10, 7]],
  ] as const)(
    'a %s order cannot be cancelled and the stock stays as it is',
    async (from, path, stock) => {
      const { order, productIds } = await twoLineOrder();
      await moveTo(order.id, [...path]);
      expect(await failure(alice.caller.orders.cancel({ id: order.id }))).toEqual({
        code: 'BAD_REQUEST',
        message: `an order cannot move from ${from} to cancelled`,
      });
      expect(await stockOf(productIds)).toEqual([...stock]);
      expect((await alice.caller.orders.byId({ id: order.id })).status).toBe(from);
    },
  );

  test("a customer cannot cancel someone else's order", async () => {
    const { order, productIds } = await twoLineOrder();
    expect((await failure(bob.caller.orders.cancel({ id: order.id }))).code).toBe('NOT_FOUND');
    expect((await failure(bob.caller.orders.cancel({ id: randomUUID() }))).code).toBe('NOT_FOUND');
    expect(await stockOf(productIds)).toEqual([7, 0]);
    expect((await alice.caller.orders.byId({ id: order.id })).status).toBe('pending');
  });
});

describe('orders.updateStatus', () => {
  test('an admin moves an order pending → paid → shipped → delivered without touching stock', async () => {
    const product = await makeProduct({ stock: 5 });
    const order = await place(alice.caller, [{ productId: product.id, quantity: 2 }]);
    for (const status of ['paid', 'shipped', 'delivered'] as const) {
      const updated = await admin.orders.updateStatus({ id: order.id, status });
      expect(updated.status).toBe(status);
      expect(updated.items).toEqual(order.items);
      expect((await alice.caller.orders.byId({ id: order.id })).status).toBe(status);
      expect(await stockOf([product.id])).toEqual([3]);
    }
  });

  test.each([
    ['pending', 'shipped', []],
    ['pending', 'delivered', []],
    ['pending', 'pending', []],
    ['paid', 'pending', ['paid']],
    ['paid', 'delivered', ['paid']],
    ['shipped', 'cancelled', ['paid', 'shipped']],
    ['shipped', 'paid', ['paid', 'shipped']],
    ['delivered', 'pending', ['paid', 'shipped', 'delivered']],
    ['delivered', 'paid', ['paid', 'shipped', 'delivered']],
    ['delivered', 'shipped', ['paid', 'shipped', 'delivered']],
    ['delivered', 'cancelled', ['paid', 'shipped', 'delivered']],
    ['cancelled', 'pending', ['cancelled']],
    ['cancelled', 'paid', ['cancelled']],
  ] as const)('%s → %s is BAD_REQUEST naming both statuses', async (from, to, path) => {
    const product = await makeProduct({ stock: 5 });
    const order = await place(alice.caller, [{ productId: product.id, quantity: 2 }]);
    await moveTo(order.id, [...path]);
    const stock = await stockOf([product.id]);
    expect(await failure(admin.orders.updateStatus({ id: order.id, status: to }))).toEqual({
      code: 'BAD_REQUEST',
      message: `an order cannot move from ${from} to ${to}`,
    });
    expect((await admin.orders.byId({ id: order.id })).status).toBe(from);
    expect(await stockOf([product.id])).toEqual(stock);
  });

  test('an admin cancelling a paid order puts the stock back', async () => {
    const [a, b] = await makeProducts([{ stock: 4 }, { stock: 9 }]);
    if (!a || !b) throw new Error('setup failed');
    const order = await place(alice.caller, [
      { productId: a.id, quantity: 4 },
      { productId: b.id, quantity: 1 },
    ]);
    await moveTo(order.id, ['paid']);
    expect(await stockOf([a.id, b.id])).toEqual([0, 8]);
    const cancelled = await admin.orders.updateStatus({ id: order.id, status: 'cancelled' });
    expect(cancelled.status).toBe('cancelled');
    expect(await stockOf([a.id, b.id])).toEqual([4, 9]);
  });

  test('customers cannot change an order status; unknown orders are NOT_FOUND', async () => {
    const product = await makeProduct({ stock: 5 });
    const order = await place(alice.caller, [{ productId: product.id, quantity: 1 }]);
    expect(
      (await failure(alice.caller.orders.updateStatus({ id: order.id, status: 'paid' }))).code,
    ).toBe('FORBIDDEN');
    expect(
      (await failure(admin.orders.updateStatus({ id: randomUUID(), status: 'paid' }))).code,
    ).toBe('NOT_FOUND');
    expect((await alice.caller.orders.byId({ id: order.id })).status).toBe('pending');
  });
});
