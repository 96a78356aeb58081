import type { DB } from '@keel/db';
import { createDb, verifyPassword } from '@keel/db';
import { sql } from 'kysely';
import { afterAll, describe, expect, test } from 'vitest';
import { seedBulkData } from '../src/seed/bulk-data';
import { developmentAccounts, seedDevelopmentData } from '../src/seed/development-data';
import { createTestDatabase } from '../src/testing';

const testDb = await createTestDatabase();
const owner = createDb<DB>({ connectionString: testDb.urls.owner, maxConnections: 2 });
afterAll(async () => {
  await owner.destroy();
  await testDb.destroy();
});

async function count(table: 'users' | 'products' | 'orders' | 'order_items'): Promise<number> {
  const row = await owner
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return row.n;
}

async function counts() {
  return {
    users: await count('users'),
    products: await count('products'),
    orders: await count('orders'),
    items: await count('order_items'),
  };
}

describe('development seed', () => {
  test('inserts the documented accounts, 300 products and orders in every status', async () => {
    const first = await seedDevelopmentData(owner);
    expect(first).toEqual({ users: developmentAccounts.length, products: 300, orders: 15 });
    const statuses = await owner
      .selectFrom('orders')
      .select('status')
      .distinct()
      .orderBy('status')
      .execute();
    expect(statuses.map((s) => s.status)).toEqual([
      'cancelled',
      'delivered',
      'paid',
      'pending',
      'shipped',
    ]);
    const admin = await owner
      .selectFrom('users')
      .select(['role', 'password_hash'])
      .where('email', '=', 'admin@keel.dev')
      .executeTakeFirstOrThrow();
    expect(admin.role).toBe('admin');
    expect(await verifyPassword('keel-admin-password', admin.password_hash)).toBe(true);
  });

  test('running it again duplicates nothing and changes no stock', async () => {
    const before = await counts();
    const stockBefore = await owner
      .selectFrom('products')
      .select((eb) => eb.fn.sum<number>('stock_quantity').as('s'))
      .executeTakeFirstOrThrow();
    const second = await seedDevelopmentData(owner);
    expect(second).toEqual({ users: 0, products: 0, orders: 0 });
    expect(await counts()).toEqual(before);
    const stockAfter = await owner
      .selectFrom('products')
      .select((eb) => eb.fn.sum<number>('stock_quantity').as('s'))
      .executeTakeFirstOrThrow();
    expect(stockAfter.s).toBe(stockBefore.s);
  });
});

describe('bulk seed', () => {
  test('inserts the requested rows, each order total equals the sum of its items', async () => {
    const before = await counts();
    const reports = await seedBulkData(owner, {
      users: 50,
      products: 2_500,
      orders: 400,
      batchSize: 1_000,
    });
    expect(reports.map((r) => [r.table, r.rows])).toEqual([
      ['users', 50],
      ['products', 2_500],
      ['orders', 400],
    ]);
    const after = await counts();
    expect(after.users - before.users).toBe(50);
    expect(after.products - before.products).toBe(2_500);
    expect(after.orders - before.orders).toBe(400);
    expect(after.items - before.items).toBeGreaterThanOrEqual(400);
    const mismatched = await sql<{ n: number }>`
      select count(*)::int as n from orders o
      where o.total_cents <> (select coalesce(sum(quantity * unit_price_cents), 0) from order_items i where i.order_id = o.id)`.execute(
      owner,
    );
    expect(mismatched.rows[0]?.n).toBe(0);
  });

  test('a second bulk run adds rows without colliding with the first', async () => {
    const before = await counts();
    await seedBulkData(owner, { users: 10, products: 100 });
    const after = await counts();
    expect(after.products - before.products).toBe(100);
    expect(after.users - before.users).toBe(10);
  });
});
