import { randomUUID } from 'node:crypto';
import { createDb } from '@keel/db';
import { createTestDatabase } from '@keel/platform/testing';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { createInnerContext } from '../src/context';
import { createCaller, type Product } from '../src/index';

const testDb = await createTestDatabase({ db: { maxConnections: 20 } });
const statements: string[] = [];
const counted = createDb({
  connectionString: testDb.urls.app,
  maxConnections: 5,
  log: (event) => {
    if (event.level === 'query') statements.push(event.query.sql);
  },
});
afterAll(async () => {
  await counted.destroy();
  await testDb.destroy();
});
const anonymous = createCaller(createInnerContext({ db: testDb.db }));
const settings = { maxPendingOrders: 1_000 };

/** The one session lookup (and its occasional touch) every authenticated call makes. */
function isSessionLookup(statement: string): boolean {
  return statement.includes('from "sessions"') || statement.includes('update "sessions"');
}

/** Runs a call on the counted pool and returns its result and its statements, session lookup excluded. */
async function count<T>(call: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  statements.length = 0;
  const result = await call();
  return { result, statements: statements.filter((s) => !isSessionLookup(s)) };
}

async function register(displayName: string) {
  const { user, token } = await anonymous.auth.register({
    email: `${displayName.toLowerCase()}@example.com`,
    password: 'a-long-password',
    displayName,
  });
  return {
    user,
    // Orders are set up on the uncounted pool; the calls under test go through `counted`.
    setup: createCaller(createInnerContext({ db: testDb.db, token, settings })),
    caller: createCaller(createInnerContext({ db: counted, token, settings })),
  };
}

const itemCounts = [1, 10, 50] as const;
const [one, ten, fifty, adminUser] = await Promise.all([
  register('One'),
  register('Ten'),
  register('Fifty'),
  register('Admin'),
]);
if (!one || !ten || !fifty || !adminUser) throw new Error('setup failed');
const buyers = { 1: one, 10: ten, 50: fifty };
await testDb.db
  .updateTable('users')
  .set({ role: 'admin' })
  .where('id', '=', adminUser.user.id)
  .execute();

// A catalogue of 60 products, created by an admin, with plenty of stock.
const catalogue: Product[] = await Promise.all(
  Array.from({ length: 60 }, (_, i) =>
    adminUser.setup.products.create({
      sku: `CAT-${String(i).padStart(3, '0')}`,
      name: `Catalogue item ${i}`,
      priceCents: 100 + i,
      stockQuantity: 1_000,
    }),
  ),
);

// 20 orders per buyer, each with 1, 10 or 50 lines.
const orderIds: Record<(typeof itemCounts)[number], string[]> = { 1: [], 10: [], 50: [] };
await Promise.all(
  itemCounts.map(async (lines) => {
    for (let i = 0; i < 20; i += 1) {
      const order = await buyers[lines].setup.orders.place({
        idempotencyKey: randomUUID(),
        items: catalogue.slice(0, lines).map((p) => ({ productId: p.id, quantity: 1 })),
      });
      orderIds[lines].push(order.id);
    }
  }),
);

beforeEach(() => {
  statements.length = 0;
});

describe('statements per call (the session lookup not counted)', () => {
  test.each(itemCounts)(
    'orders.list of 20 orders with %i items each takes at most 2 statements',
    async (lines) => {
      const { result, statements: used } = await count(() =>
        buyers[lines].caller.orders.list({ limit: 20 }),
      );
      expect(result.items).toHaveLength(20);
      expect(result.items.every((o) => o.items.length === lines)).toBe(true);
      expect(used.length).toBeGreaterThanOrEqual(1);
      expect(used.length).toBeLessThanOrEqual(2);
    },
  );

  test('orders.list takes the same number of statements for 1, 10 and 50 items per order, on every page', async () => {
    const perList: number[] = [];
    for (const lines of itemCounts) {
      const first = await count(() => buyers[lines].caller.orders.list({ limit: 10 }));
      expect(first.result.items).toHaveLength(10);
      const cursor = first.result.nextCursor ?? undefined;
      expect(cursor).toBeDefined();
      const second = await count(() => buyers[lines].caller.orders.list({ limit: 10, cursor }));
      expect(second.result.items).toHaveLength(10);
      expect(second.result.items.every((o) => o.items.length === lines)).toBe(true);
      perList.push(first.statements.length, second.statements.length);
    }
    expect(new Set(perList).size).toBe(1);
    expect(perList[0]).toBeLessThanOrEqual(2);
  });

  test('an admin listing every order (60 orders, up to 50 items each) stays within 2 statements', async () => {
    const admin = adminUser.caller;
    const { result, statements: used } = await count(() =>
      admin.orders.list({ allUsers: true, limit: 100 }),
    );
    expect(result.items).toHaveLength(60);
    expect(used.length).toBeLessThanOrEqual(2);
  });

  test('orders.byId is exactly 1 statement whether the order has 1, 10 or 50 items', async () => {
    for (const lines of itemCounts) {
      const id = orderIds[lines][0];
      if (!id) throw new Error('setup failed');
      const { result, statements: used } = await count(() =>
        buyers[lines].caller.orders.byId({ id }),
      );
      expect(result.items).toHaveLength(lines);
      expect(used).toHaveLength(1);
    }
  });

  test('products.list is exactly 1 statement, signed in or not', async () => {
    const anonymousCounted = createCaller(createInnerContext({ db: counted }));
    const signedOut = await count(() => anonymousCounted.products.list({ limit: 50 }));
    expect(signedOut.result.items).toHaveLength(50);
    expect(signedOut.statements).toHaveLength(1);
    const signedIn = await count(() => one.caller.products.list({ limit: 50, sort: 'price_asc' }));
    expect(signedIn.result.items).toHaveLength(50);
    expect(signedIn.statements).toHaveLength(1);
  });

  test.each(itemCounts)(
    'orders.place with %i lines is one transaction of 4 statements, the last one claiming its key and writing the order; its replay is 5',
    async (lines) => {
      const input = {
        idempotencyKey: randomUUID(),
        items: catalogue.slice(0, lines).map((p) => ({ productId: p.id, quantity: 1 })),
      };
      const placed = await count(() => buyers[lines].caller.orders.place(input));
      expect(placed.result.items).toHaveLength(lines);
      expect(placed.statements.at(0)).toBe('begin');
      expect(placed.statements.at(-1)).toBe('commit');
      expect(placed.statements).toHaveLength(4 + 2);
      // The write: the claim (insert … on conflict do nothing), the stock and the items, at once.
      const write = placed.statements.at(-2) ?? '';
      expect(write).toMatch(/insert into orders[\s\S]*on conflict[\s\S]*do nothing/);
      expect(write).toMatch(/update products set stock_quantity/);
      expect(write).toMatch(/insert into order_items/);
      // No read of the key before the claim.
      expect(placed.statements.filter((s) => s.includes('"idempotency_key" ='))).toHaveLength(0);

      const replayed = await count(() => buyers[lines].caller.orders.place(input));
      expect(replayed.result).toEqual(placed.result);
      expect(replayed.statements).toHaveLength(5 + 2);
    },
  );

  test('the session lookup is the only statement left out of the counts', async () => {
    const { statements: kept } = await count(() => one.caller.orders.list({ limit: 1 }));
    const all = [...statements];
    expect(all.filter(isSessionLookup)).toHaveLength(1);
    expect(all).toHaveLength(kept.length + 1);
    expect(kept.some((s) => s.includes('"sessions"'))).toBe(false);
  });
});
