import { randomUUID } from 'node:crypto';
import { createTestDatabase } from '@keel/platform/testing';
import { afterAll, expect, test } from 'vitest';
import { createInnerContext } from '../src/context';
import { createCaller } from '../src/index';

const testDb = await createTestDatabase();
afterAll(() => testDb.destroy());
const anonymous = createCaller(createInnerContext({ db: testDb.db }));

test('a customer registers, an admin adds a product, the customer orders it and lists the order', async () => {
  const { token } = await anonymous.auth.register({
    email: 'Smoke@Example.com',
    password: 'a-long-password',
    displayName: 'Smoke',
  });
  const customer = createCaller(createInnerContext({ db: testDb.db, token }));
  expect((await customer.auth.me()).email).toBe('Smoke@Example.com');
  await testDb.db
    .updateTable('users')
    .set({ role: 'admin' })
    .where('email', '=', 'smoke@example.com')
    .execute();
  const product = await customer.products.create({
    sku: 'SMOKE-1',
    name: 'Smoke Test',
    priceCents: 1250,
    stockQuantity: 3,
  });
  const order = await customer.orders.place({
    idempotencyKey: randomUUID(),
    items: [{ productId: product.id, quantity: 2 }],
  });
  expect(order.totalCents).toBe(2500);
  expect(order.items).toEqual([
    expect.objectContaining({ productId: product.id, quantity: 2, unitPriceCents: 1250 }),
  ]);
  const page = await customer.orders.list({ limit: 10 });
  expect(page.items.map((o) => o.id)).toContain(order.id);
  const list = await anonymous.products.list({ limit: 1, sort: 'price_asc' });
  expect(list.items).toHaveLength(1);
  expect((await customer.products.byId({ id: product.id })).stockQuantity).toBe(1);
});
