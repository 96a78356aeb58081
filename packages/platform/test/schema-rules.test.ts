import { randomBytes, randomUUID } from 'node:crypto';
import type { DB } from '@keel/db';
import type { Insertable } from 'kysely';
import { afterAll, describe, expect, test } from 'vitest';
import { createTestDatabase } from '../src/testing';

const testDb = await createTestDatabase();
const { db } = testDb;
afterAll(() => testDb.destroy());

type New<T extends keyof DB> = Partial<Insertable<DB[T]>>;

// A null the generated types forbid, to reach the NOT NULL constraints.
const missing = null as never;
let counter = 0;

function insertUser(overrides: New<'users'> = {}) {
  counter += 1;
  return db
    .insertInto('users')
    .values({
      email: `user${counter}@example.com`,
      display_name: 'Ann',
      password_hash: 'scrypt$x',
      role: 'customer',
      ...overrides,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

function insertSession(overrides: New<'sessions'> & { user_id: string }) {
  return db
    .insertInto('sessions')
    .values({
      token_hash: randomBytes(32),
      expires_at: new Date(Date.now() + 3_600_000),
      ...overrides,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

function insertProduct(overrides: New<'products'> = {}) {
  counter += 1;
  return db
    .insertInto('products')
    .values({
      sku: `SKU-${String(counter).padStart(4, '0')}`,
      name: 'Widget',
      price_cents: 1000,
      currency: 'USD',
      stock_quantity: 5,
      ...overrides,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

function insertOrder(overrides: New<'orders'> & { user_id: string }) {
  return db
    .insertInto('orders')
    .values({
      status: 'pending',
      total_cents: 0,
      currency: 'USD',
      idempotency_key: randomUUID(),
      ...overrides,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

function insertItem(overrides: New<'order_items'> & { order_id: string; product_id: string }) {
  return db
    .insertInto('order_items')
    .values({ quantity: 1, unit_price_cents: 1000, product_name: 'Widget', ...overrides })
    .returningAll()
    .executeTakeFirstOrThrow();
}

interface PgError {
  code?: string;
  constraint?: string;
  table?: string;
  column?: string;
}

async function pgError(run: Promise<unknown>): Promise<PgError> {
  try {
    await run;
  } catch (error) {
    return error as PgError;
  }
  throw new Error('expected the statement to fail');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function insertCounter(overrides: New<'rate_limit_counters'> = {}) {
  counter += 1;
  return db
    .insertInto('rate_limit_counters')
    .values({
      key: `attempt:auth.login:192.0.2.${counter % 250}:${counter}`,
      hit_count: 1,
      last_hit_at: new Date(),
      expires_at: new Date(Date.now() + 60_000),
      ...overrides,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

// Shared parents for the cases below; a refused insert leaves nothing behind.
const ann = await insertUser();
const widget = await insertProduct();
const annOrder = await insertOrder({ user_id: ann.id });
const annItem = { order_id: annOrder.id, product_id: widget.id };
const newOrder = () => insertOrder({ user_id: ann.id });

describe('CHECK constraints', () => {
  const refused = async (run: Promise<unknown>, constraint: string) =>
    expect(await pgError(run)).toMatchObject({ code: '23514', constraint });

  test.each<[string, string, New<'users'>]>([
    ['an email without a dot in the domain', 'users_email_check', { email: 'ann@example' }],
    ['an email with a space', 'users_email_check', { email: 'a nn@example.com' }],
    ['a 255-character email', 'users_email_check', { email: `${'a'.repeat(243)}@example.com` }],
    ['an empty display name', 'users_display_name_check', { display_name: '' }],
    ['a 101-character display name', 'users_display_name_check', { display_name: 'A'.repeat(101) }],
    ['a display name with a leading space', 'users_display_name_check', { display_name: ' Ann' }],
    ['an empty password hash', 'users_password_hash_check', { password_hash: '' }],
    [
      'a 513-character password hash',
      'users_password_hash_check',
      { password_hash: 'x'.repeat(513) },
    ],
    // The generated type forbids it as well; the database must refuse it on its own.
    ['an unknown role', 'users_role_check', { role: 'root' as never }],
  ])('users: %s is refused with 23514 %s', (_, constraint, values) =>
    refused(insertUser(values), constraint),
  );

  test.each<[string, string, New<'sessions'>]>([
    ['a 31-byte token hash', 'sessions_token_hash_check', { token_hash: randomBytes(31) }],
    ['a 33-byte token hash', 'sessions_token_hash_check', { token_hash: randomBytes(33) }],
    [
      'an expiry before creation',
      'sessions_expires_at_check',
      { expires_at: new Date(Date.now() - 60_000) },
    ],
  ])('sessions: %s is refused with 23514 %s', (_, constraint, values) =>
    refused(insertSession({ user_id: ann.id, ...values }), constraint),
  );

  test.each<[string, string, New<'products'>]>([
    ['a lowercase sku', 'products_sku_check', { sku: 'sku-0001' }],
    ['a 2-character sku', 'products_sku_check', { sku: 'AB' }],
    ['a sku starting with a hyphen', 'products_sku_check', { sku: '-SKU1' }],
    ['an empty name', 'products_name_check', { name: '' }],
    ['a name with a trailing space', 'products_name_check', { name: 'Widget ' }],
    [
      'a 5001-character description',
      'products_description_check',
      { description: 'd'.repeat(5001) },
    ],
    ['a negative price', 'products_price_cents_check', { price_cents: -1 }],
    ['a price of 2^53', 'products_price_cents_check', { price_cents: 9007199254740992 }],
    ['a lowercase currency', 'products_currency_check', { currency: 'usd' }],
    ['a negative stock quantity', 'products_stock_quantity_check', { stock_quantity: -1 }],
  ])('products: %s is refused with 23514 %s', (_, constraint, values) =>
    refused(insertProduct(values), constraint),
  );

  test.each<[string, string, New<'orders'>]>([
    ['an unknown status', 'orders_status_check', { status: 'refunded' as never }],
    ['a negative total', 'orders_total_cents_check', { total_cents: -1 }],
    ['a total of 2^53', 'orders_total_cents_check', { total_cents: 9007199254740992 }],
    ['a two-letter currency', 'orders_currency_check', { currency: 'US' }],
  ])('orders: %s is refused with 23514 %s', (_, constraint, values) =>
    refused(insertOrder({ user_id: ann.id, ...values }), constraint),
  );

  test.each<[string, string, New<'order_items'>]>([
    ['a quantity of 0', 'order_items_quantity_check', { quantity: 0 }],
    ['a quantity of 10001', 'order_items_quantity_check', { quantity: 10_001 }],
    ['a negative unit price', 'order_items_unit_price_cents_check', { unit_price_cents: -1 }],
    ['a unit price of 2^53', 'order_items_unit_price_cents_check', { unit_price_cents: 2 ** 53 }],
    ['an empty product name', 'order_items_product_name_check', { product_name: '' }],
  ])('order_items: %s is refused with 23514 %s', (_, constraint, values) =>
    refused(insertItem({ ...annItem, ...values }), constraint),
  );

  test.each<[string, string, New<'rate_limit_counters'>]>([
    ['an empty key', 'rate_limit_counters_key_check', { key: '' }],
    ['a 601-character key', 'rate_limit_counters_key_check', { key: 'k'.repeat(601) }],
    ['a count of 0', 'rate_limit_counters_hit_count_check', { hit_count: 0 }],
  ])('rate_limit_counters: %s is refused with 23514 %s', (_, constraint, values) =>
    refused(insertCounter(values), constraint),
  );

  test('values on the edge of each range are accepted', async () => {
    const user = await insertUser({
      email: `${'a'.repeat(242)}@example.com`,
      display_name: 'A'.repeat(100),
      password_hash: 'x'.repeat(512),
      role: 'admin',
    });
    expect(user.email).toHaveLength(254);
    const product = await insertProduct({
      sku: 'AB1',
      name: 'N'.repeat(200),
      description: 'd'.repeat(5000),
      price_cents: Number.MAX_SAFE_INTEGER,
      stock_quantity: 0,
    });
    const order = await insertOrder({ user_id: user.id, total_cents: Number.MAX_SAFE_INTEGER });
    const item = await insertItem({
      order_id: order.id,
      product_id: product.id,
      quantity: 10_000,
      unit_price_cents: 0,
    });
    expect([product.price_cents, order.total_cents, item.quantity]).toEqual([
      Number.MAX_SAFE_INTEGER,
      Number.MAX_SAFE_INTEGER,
      10_000,
    ]);
  });

  test('an UPDATE decrementing stock below zero is refused with 23514 products_stock_quantity_check and changes nothing', async () => {
    const product = await insertProduct({ stock_quantity: 5 });
    const decrement = db
      .updateTable('products')
      .set((eb) => ({ stock_quantity: eb('stock_quantity', '-', 6) }))
      .where('id', '=', product.id)
      .execute();
    expect(await pgError(decrement)).toMatchObject({
      code: '23514',
      constraint: 'products_stock_quantity_check',
    });
    const after = await db
      .selectFrom('products')
      .select('stock_quantity')
      .where('id', '=', product.id)
      .executeTakeFirstOrThrow();
    expect(after.stock_quantity).toBe(5);
  });
});

describe('NOT NULL constraints', () => {
  test.each([
    ['users', 'email', () => insertUser({ email: missing })],
    ['sessions', 'expires_at', () => insertSession({ user_id: ann.id, expires_at: missing })],
    ['products', 'price_cents', () => insertProduct({ price_cents: missing })],
    ['orders', 'currency', () => insertOrder({ user_id: ann.id, currency: missing })],
    ['order_items', 'quantity', () => insertItem({ ...annItem, quantity: missing })],
  ])('a null %s.%s is refused with 23502', async (table, column, run) => {
    // NOT NULL errors carry no constraint name, only the table and column.
    expect(await pgError(run())).toMatchObject({ code: '23502', table, column });
  });
});

describe('unique rules among live rows', () => {
  test('a second user with the same email is refused with 23505 users_email_key', async () => {
    await insertUser({ email: 'same@example.com' });
    expect(await pgError(insertUser({ email: 'same@example.com' }))).toMatchObject({
      code: '23505',
      constraint: 'users_email_key',
    });
  });

  test('emails are unique case-insensitively (23505 users_email_key)', async () => {
    await insertUser({ email: 'Ann@Example.com' });
    expect(await pgError(insertUser({ email: 'ann@example.com' }))).toMatchObject({
      code: '23505',
      constraint: 'users_email_key',
    });
  });

  test('a second live session with the same token hash is refused with 23505 sessions_token_hash_key', async () => {
    const token_hash = randomBytes(32);
    await insertSession({ user_id: ann.id, token_hash });
    expect(await pgError(insertSession({ user_id: ann.id, token_hash }))).toMatchObject({
      code: '23505',
      constraint: 'sessions_token_hash_key',
    });
  });

  test('a second product with the same sku is refused with 23505 products_sku_key', async () => {
    await insertProduct({ sku: 'DUP-1' });
    expect(await pgError(insertProduct({ sku: 'DUP-1' }))).toMatchObject({
      code: '23505',
      constraint: 'products_sku_key',
    });
  });

  test('a second order with the same user and idempotency key is refused with 23505 orders_user_id_idempotency_key_key', async () => {
    const idempotency_key = randomUUID();
    await insertOrder({ user_id: ann.id, idempotency_key });
    expect(await pgError(insertOrder({ user_id: ann.id, idempotency_key }))).toMatchObject({
      code: '23505',
      constraint: 'orders_user_id_idempotency_key_key',
    });
    // The key is per user: another user may use the same one.
    const bea = await insertUser();
    await expect(insertOrder({ user_id: bea.id, idempotency_key })).resolves.toBeDefined();
  });

  test('a second live count with the same key is refused with 23505 rate_limit_counters_key_key', async () => {
    await insertCounter({ key: 'sign-in:same@example.com' });
    expect(await pgError(insertCounter({ key: 'sign-in:same@example.com' }))).toMatchObject({
      code: '23505',
      constraint: 'rate_limit_counters_key_key',
    });
  });

  test('a product appearing twice in one order is refused with 23505 order_items_order_id_product_id_key', async () => {
    const order = await newOrder();
    await insertItem({ order_id: order.id, product_id: widget.id });
    expect(await pgError(insertItem({ order_id: order.id, product_id: widget.id }))).toMatchObject({
      code: '23505',
      constraint: 'order_items_order_id_product_id_key',
    });
  });
});

describe('soft-deleted rows free their natural key', () => {
  test('a deleted user’s email can register again', async () => {
    const old = await insertUser({ email: 'Again@Example.com' });
    await db
      .updateTable('users')
      .set({ deleted_at: new Date() })
      .where('id', '=', old.id)
      .execute();
    const again = await insertUser({ email: 'again@example.com' });
    expect(again.id).not.toBe(old.id);
  });

  test('a deleted product’s sku can be reused', async () => {
    const old = await insertProduct({ sku: 'REUSE-1' });
    await db
      .updateTable('products')
      .set({ deleted_at: new Date() })
      .where('id', '=', old.id)
      .execute();
    const again = await insertProduct({ sku: 'REUSE-1' });
    expect(again.id).not.toBe(old.id);
  });

  test('a deleted order’s idempotency key can be used again by the same user', async () => {
    const idempotency_key = randomUUID();
    const old = await insertOrder({ user_id: ann.id, idempotency_key });
    await db
      .updateTable('orders')
      .set({ deleted_at: new Date() })
      .where('id', '=', old.id)
      .execute();
    const again = await insertOrder({ user_id: ann.id, idempotency_key });
    expect(again.id).not.toBe(old.id);
  });
});

describe('foreign keys', () => {
  test('an order for a missing user is refused with 23503 orders_user_id_fkey', async () => {
    expect(await pgError(insertOrder({ user_id: randomUUID() }))).toMatchObject({
      code: '23503',
      constraint: 'orders_user_id_fkey',
    });
  });

  test('a session for a missing user is refused with 23503 sessions_user_id_fkey', async () => {
    expect(await pgError(insertSession({ user_id: randomUUID() }))).toMatchObject({
      code: '23503',
      constraint: 'sessions_user_id_fkey',
    });
  });

  test('an order item for a missing product is refused with 23503 order_items_product_id_fkey', async () => {
    const run = insertItem({ order_id: annOrder.id, product_id: randomUUID() });
    expect(await pgError(run)).toMatchObject({
      code: '23503',
      constraint: 'order_items_product_id_fkey',
    });
  });

  test('an order item for a missing order is refused with 23503 order_items_order_id_fkey', async () => {
    const run = insertItem({ order_id: randomUUID(), product_id: widget.id });
    expect(await pgError(run)).toMatchObject({
      code: '23503',
      constraint: 'order_items_order_id_fkey',
    });
  });

  // PostgreSQL 18 reports an ON DELETE RESTRICT refusal as 23001 restrict_violation;
  // 17 and earlier used 23503 foreign_key_violation (NO ACTION still does).
  test('hard-deleting a user who has orders is refused with 23001 orders_user_id_fkey', async () => {
    const user = await insertUser();
    await insertOrder({ user_id: user.id });
    const run = db.deleteFrom('users').where('id', '=', user.id).execute();
    expect(await pgError(run)).toMatchObject({ code: '23001', constraint: 'orders_user_id_fkey' });
  });

  test('hard-deleting a product that was ordered is refused with 23001 order_items_product_id_fkey', async () => {
    const product = await insertProduct();
    await insertItem({ order_id: annOrder.id, product_id: product.id });
    const run = db.deleteFrom('products').where('id', '=', product.id).execute();
    expect(await pgError(run)).toMatchObject({
      code: '23001',
      constraint: 'order_items_product_id_fkey',
    });
  });

  test('hard-deleting an order deletes its items', async () => {
    const order = await newOrder();
    const item = await insertItem({ order_id: order.id, product_id: widget.id });
    await db.deleteFrom('orders').where('id', '=', order.id).executeTakeFirstOrThrow();
    const left = await db
      .selectFrom('order_items')
      .select('id')
      .where('id', '=', item.id)
      .execute();
    expect(left).toEqual([]);
  });

  test('hard-deleting a user deletes their sessions', async () => {
    const user = await insertUser();
    const session = await insertSession({ user_id: user.id });
    const deleted = await db.deleteFrom('users').where('id', '=', user.id).executeTakeFirst();
    expect(deleted.numDeletedRows).toBe(1n);
    const left = await db
      .selectFrom('sessions')
      .select('id')
      .where('id', '=', session.id)
      .execute();
    expect(left).toEqual([]);
  });
});

describe('created_at and updated_at', () => {
  test.each([
    ['users', () => insertUser()],
    ['sessions', () => insertSession({ user_id: ann.id })],
    ['products', () => insertProduct()],
    ['orders', newOrder],
    ['order_items', async () => insertItem({ ...annItem, order_id: (await newOrder()).id })],
  ] as const)(
    'updating a row of %s moves updated_at forward and keeps created_at',
    async (table, insert) => {
      const before = await insert();
      expect(before.updated_at.getTime()).toBe(before.created_at.getTime());
      await sleep(20);
      const after = await db
        .updateTable(table)
        .set({ deleted_at: new Date() })
        .where('id', '=', before.id)
        .returning(['created_at', 'updated_at'])
        .executeTakeFirstOrThrow();
      expect(after.created_at.getTime()).toBe(before.created_at.getTime());
      expect(after.updated_at.getTime()).toBeGreaterThan(before.updated_at.getTime());
    },
  );

  test('an updated_at set by the caller is overwritten by the trigger', async () => {
    const user = await insertUser();
    const after = await db
      .updateTable('users')
      .set({ updated_at: new Date('2000-01-01T00:00:00Z') })
      .where('id', '=', user.id)
      .returning('updated_at')
      .executeTakeFirstOrThrow();
    expect(after.updated_at.getTime()).toBeGreaterThanOrEqual(user.updated_at.getTime());
  });
});

describe('values read back have the runtime types of the generated types', () => {
  test('a bigint price of 2^53-1 comes back as that exact number', async () => {
    const { id } = await insertProduct({ price_cents: 9007199254740991 });
    const row = await db
      .selectFrom('products')
      .select('price_cents')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(typeof row.price_cents).toBe('number');
    expect(row.price_cents).toBe(9007199254740991);
  });

  test('count(*) comes back as a number', async () => {
    const { id } = await insertUser({ display_name: 'Counted' });
    await insertOrder({ user_id: id });
    await insertOrder({ user_id: id });
    const row = await db
      .selectFrom('orders')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('user_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.n).toBe(2);
  });

  test('a timestamptz comes back as a Date of the same instant, milliseconds included', async () => {
    const expiresAt = new Date('2031-05-06T07:08:09.123Z');
    const { id } = await insertSession({ user_id: ann.id, expires_at: expiresAt });
    const row = await db
      .selectFrom('sessions')
      .select('expires_at')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.expires_at).toBeInstanceOf(Date);
    expect(row.expires_at.toISOString()).toBe('2031-05-06T07:08:09.123Z');
  });

  test('a citext email keeps its case and matches case-insensitively', async () => {
    const { id } = await insertUser({ email: 'Mixed.Case@Example.COM' });
    const row = await db
      .selectFrom('users')
      .select(['id', 'email'])
      .where('email', '=', 'mixed.case@example.com')
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ id, email: 'Mixed.Case@Example.COM' });
  });

  test('a bytea token hash comes back as an equal Buffer', async () => {
    const token_hash = randomBytes(32);
    const { id } = await insertSession({ user_id: ann.id, token_hash });
    const row = await db
      .selectFrom('sessions')
      .select('token_hash')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(Buffer.isBuffer(row.token_hash)).toBe(true);
    expect(row.token_hash.equals(token_hash)).toBe(true);
  });

  test('every table’s id is a version 7 uuid string', async () => {
    const session = await insertSession({ user_id: ann.id });
    const item = await insertItem({
      order_id: annOrder.id,
      product_id: (await insertProduct()).id,
    });
    for (const id of [ann.id, session.id, widget.id, annOrder.id, item.id]) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });
});
