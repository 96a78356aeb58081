import { randomUUID } from 'node:crypto';
import { createTestDatabase } from '@keel/platform/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createInnerContext } from '../src/context';
import { createCaller, type Product } from '../src/index';

const testDb = await createTestDatabase();
afterAll(() => testDb.destroy());
// One context serves every call here; a server makes one per request, which is
// what the per-request search cap counts (hardening.test.ts covers the cap).
const settings = { maxSearchesPerRequest: 1_000_000 };
const anonymous = createCaller(createInnerContext({ db: testDb.db, settings }));

const { user: adminUser, token: adminToken } = await anonymous.auth.register({
  email: 'admin@example.com',
  password: 'a-long-password',
  displayName: 'Admin',
});
await testDb.db
  .updateTable('users')
  .set({ role: 'admin' })
  .where('id', '=', adminUser.id)
  .execute();
const admin = createCaller(createInnerContext({ db: testDb.db, token: adminToken, settings }));

const { token: customerToken } = await anonymous.auth.register({
  email: 'customer@example.com',
  password: 'a-long-password',
  displayName: 'Customer',
});
const customer = createCaller(
  createInnerContext({ db: testDb.db, token: customerToken, settings }),
);

let skuCounter = 0;
/** A fresh, valid sku for each product a test creates. */
function nextSku(prefix = 'P'): string {
  skuCounter += 1;
  return `${prefix}-${String(skuCounter).padStart(4, '0')}`;
}

async function productCount(): Promise<number> {
  const row = await testDb.db
    .selectFrom('products')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('products.create', () => {
  test('returns exactly the documented product fields with JS types', async () => {
    const product = await admin.products.create({
      sku: nextSku('SHAPE'),
      name: 'Shape Check',
      description: 'a product to check the returned shape',
      priceCents: 1999,
      stockQuantity: 5,
    });
    expect(Object.keys(product).sort()).toEqual(
      [
        'id',
        'sku',
        'name',
        'description',
        'priceCents',
        'currency',
        'stockQuantity',
        'isActive',
        'createdAt',
        'updatedAt',
      ].sort(),
    );
    expect(product).toMatchObject({
      name: 'Shape Check',
      description: 'a product to check the returned shape',
      priceCents: 1999,
      currency: 'USD',
      stockQuantity: 5,
      isActive: true,
    });
    expect(typeof product.priceCents).toBe('number');
    expect(typeof product.stockQuantity).toBe('number');
    expect(product.createdAt).toBeInstanceOf(Date);
    expect(product.updatedAt).toBeInstanceOf(Date);
    expect(product.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  test('stores the largest allowed price (2^53 − 1) and returns it exactly', async () => {
    const product = await admin.products.create({
      sku: nextSku('MAXPRICE'),
      name: 'Most Expensive',
      priceCents: Number.MAX_SAFE_INTEGER,
    });
    expect(product.priceCents).toBe(Number.MAX_SAFE_INTEGER);
    const stored = await testDb.db
      .selectFrom('products')
      .select('price_cents')
      .where('id', '=', product.id)
      .executeTakeFirstOrThrow();
    expect(stored.price_cents).toBe(Number.MAX_SAFE_INTEGER);
  });

  test('a duplicate sku is CONFLICT with a plain-words message and writes nothing', async () => {
    const sku = nextSku('DUP');
    await admin.products.create({ sku, name: 'First', priceCents: 100 });
    const before = await productCount();
    await expect(
      admin.products.create({ sku, name: 'Second', priceCents: 200 }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
      message: 'sku is already in use by another product',
    });
    expect(await productCount()).toBe(before);
  });

  const invalidInputs: [string, Record<string, unknown>][] = [
    ['a sku with lower-case letters', { sku: 'abc-123' }],
    ['a sku with a space', { sku: 'AB C' }],
    ['a sku that starts with a dash', { sku: '-ABC' }],
    ['a sku that is too short', { sku: 'AB' }],
    ['a sku that is too long', { sku: 'A'.repeat(41) }],
    ['a negative price', { priceCents: -1 }],
    ['a non-integer price', { priceCents: 10.5 }],
    ['a price above 2^53 − 1', { priceCents: Number.MAX_SAFE_INTEGER + 1 }],
    ['a name with a NUL character', { name: 'Nul\u0000Name' }],
    ['an empty name', { name: '' }],
    ['a name with surrounding spaces', { name: ' Padded ' }],
    ['a 5001-character description', { description: 'd'.repeat(5001) }],
    ['a lower-case currency', { currency: 'usd' }],
    ['a negative stock quantity', { stockQuantity: -1 }],
  ];
  for (const [what, override] of invalidInputs) {
    test(`${what} is BAD_REQUEST and writes nothing`, async () => {
      const before = await productCount();
      const input = { sku: nextSku('BAD'), name: 'Valid Name', priceCents: 100, ...override };
      await expect(
        admin.products.create(input as Parameters<typeof admin.products.create>[0]),
      ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      expect(await productCount()).toBe(before);
    });
  }

  test('a 5000-character description is accepted', async () => {
    const product = await admin.products.create({
      sku: nextSku('LONGDESC'),
      name: 'Long Description',
      description: 'd'.repeat(5000),
      priceCents: 100,
    });
    expect(product.description).toHaveLength(5000);
  });

  test('only admins may create: customers get FORBIDDEN, anonymous callers UNAUTHORIZED', async () => {
    const before = await productCount();
    const input = { sku: nextSku('NOPE'), name: 'Not Allowed', priceCents: 100 };
    await expect(customer.products.create(input)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(anonymous.products.create(input)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    expect(await productCount()).toBe(before);
  });
});

describe('products.byId and products.bySku', () => {
  let product: Product;
  let hidden: Product;
  beforeAll(async () => {
    product = await admin.products.create({
      sku: nextSku('FIND'),
      name: 'Findable',
      priceCents: 4200,
    });
    hidden = await admin.products.create({
      sku: nextSku('HIDDEN'),
      name: 'Inactive Thing',
      priceCents: 4200,
      isActive: false,
    });
  });

  test('byId returns the product as create returned it', async () => {
    expect(await anonymous.products.byId({ id: product.id })).toEqual(product);
  });

  test('bySku returns the product as create returned it', async () => {
    expect(await anonymous.products.bySku({ sku: product.sku })).toEqual(product);
  });

  test('an unknown uuid is NOT_FOUND', async () => {
    await expect(anonymous.products.byId({ id: randomUUID() })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'product not found',
    });
  });

  test('an unknown sku is NOT_FOUND', async () => {
    await expect(anonymous.products.bySku({ sku: 'NO-SUCH-SKU' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  test('a malformed id is BAD_REQUEST, not a database error', async () => {
    await expect(anonymous.products.byId({ id: 'not-a-uuid' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(anonymous.products.byId({ id: "1' or '1'='1" })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  test('a malformed sku is BAD_REQUEST', async () => {
    await expect(anonymous.products.bySku({ sku: 'lower-case' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  test('an inactive product is NOT_FOUND for the public and customers but visible to admins', async () => {
    await expect(anonymous.products.byId({ id: hidden.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(customer.products.bySku({ sku: hidden.sku })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await admin.products.byId({ id: hidden.id })).toEqual(hidden);
    expect(await admin.products.bySku({ sku: hidden.sku })).toEqual(hidden);
  });
});

describe('products.update', () => {
  test('changing only the name keeps every other field and moves updatedAt forward', async () => {
    const original = await admin.products.create({
      sku: nextSku('UPD'),
      name: 'Before Rename',
      description: 'kept as is',
      priceCents: 1234,
      currency: 'EUR',
      stockQuantity: 7,
      isActive: true,
    });
    // updatedAt is returned at millisecond precision; make sure a millisecond passes.
    await pause(5);
    const updated = await admin.products.update({ id: original.id, name: 'After Rename' });
    expect(updated).toEqual({
      ...original,
      name: 'After Rename',
      updatedAt: expect.any(Date),
    });
    expect(updated.updatedAt.getTime()).toBeGreaterThan(original.updatedAt.getTime());
    expect(updated.createdAt).toEqual(original.createdAt);
    expect(await admin.products.byId({ id: original.id })).toEqual(updated);
  });

  test('with expectedUpdatedAt equal to the current updatedAt the update succeeds', async () => {
    const original = await admin.products.create({
      sku: nextSku('OPT'),
      name: 'Optimistic',
      priceCents: 500,
    });
    await pause(5);
    const updated = await admin.products.update({
      id: original.id,
      priceCents: 600,
      expectedUpdatedAt: original.updatedAt,
    });
    expect(updated.priceCents).toBe(600);
    // The returned updatedAt is the token for the next change.
    await pause(5);
    const again = await admin.products.update({
      id: original.id,
      priceCents: 700,
      expectedUpdatedAt: updated.updatedAt,
    });
    expect(again.priceCents).toBe(700);
  });

  test('a stale expectedUpdatedAt is CONFLICT and leaves the row unchanged (no lost update)', async () => {
    const original = await admin.products.create({
      sku: nextSku('STALE'),
      name: 'Contended',
      priceCents: 1000,
      stockQuantity: 10,
    });
    await pause(5);
    // Two admins loaded the same version; the first one saves.
    const first = await admin.products.update({
      id: original.id,
      name: 'Saved First',
      expectedUpdatedAt: original.updatedAt,
    });
    await pause(5);
    // The second one still holds the old version and must not overwrite the first change.
    await expect(
      admin.products.update({
        id: original.id,
        name: 'Saved Second',
        priceCents: 1,
        expectedUpdatedAt: original.updatedAt,
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await admin.products.byId({ id: original.id })).toEqual(first);
    const row = await testDb.db
      .selectFrom('products')
      .select(['name', 'price_cents'])
      .where('id', '=', original.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ name: 'Saved First', price_cents: 1000 });
  });

  test('an update to a sku already in use is CONFLICT and leaves the row unchanged', async () => {
    const taken = await admin.products.create({ sku: nextSku('TAKEN'), name: 'A', priceCents: 1 });
    const other = await admin.products.create({ sku: nextSku('OTHER'), name: 'B', priceCents: 1 });
    await expect(admin.products.update({ id: other.id, sku: taken.sku })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: 'sku is already in use by another product',
    });
    expect((await admin.products.byId({ id: other.id })).sku).toBe(other.sku);
  });

  test('an invalid change is BAD_REQUEST and leaves the row unchanged', async () => {
    const product = await admin.products.create({
      sku: nextSku('INV'),
      name: 'Valid',
      priceCents: 100,
    });
    await expect(admin.products.update({ id: product.id, priceCents: -5 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(
      admin.products.update({ id: product.id, name: 'bad\u0000name' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(await admin.products.byId({ id: product.id })).toEqual(product);
  });

  test('an update of a deleted product is NOT_FOUND, with or without expectedUpdatedAt', async () => {
    const product = await admin.products.create({
      sku: nextSku('GONE'),
      name: 'Going Away',
      priceCents: 100,
    });
    await admin.products.delete({ id: product.id });
    await expect(admin.products.update({ id: product.id, name: 'Zombie' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(
      admin.products.update({
        id: product.id,
        name: 'Zombie',
        expectedUpdatedAt: product.updatedAt,
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const row = await testDb.db
      .selectFrom('products')
      .select('name')
      .where('id', '=', product.id)
      .executeTakeFirstOrThrow();
    expect(row.name).toBe('Going Away');
  });

  test('an update of an unknown id is NOT_FOUND', async () => {
    await expect(admin.products.update({ id: randomUUID(), name: 'Nobody' })).rejects.toMatchObject(
      { code: 'NOT_FOUND' },
    );
  });

  test('customers may not update products', async () => {
    const product = await admin.products.create({
      sku: nextSku('CUST'),
      name: 'Admin Only',
      priceCents: 100,
    });
    await expect(customer.products.update({ id: product.id, priceCents: 1 })).rejects.toMatchObject(
      { code: 'FORBIDDEN' },
    );
    expect((await admin.products.byId({ id: product.id })).priceCents).toBe(100);
  });
});

describe('products.delete', () => {
  test('soft-deletes: the row stays with deleted_at set, and byId, bySku and list no longer show it', async () => {
    const product = await admin.products.create({
      sku: nextSku('SOFT'),
      name: 'Softly Deleted Lamp',
      priceCents: 100,
    });
    expect(await admin.products.delete({ id: product.id })).toEqual({
      id: product.id,
      deleted: true,
    });
    const row = await testDb.db
      .selectFrom('products')
      .select(['deleted_at'])
      .where('id', '=', product.id)
      .executeTakeFirst();
    expect(row?.deleted_at).toBeInstanceOf(Date);
    await expect(anonymous.products.byId({ id: product.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(admin.products.byId({ id: product.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(admin.products.bySku({ sku: product.sku })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const publicList = await anonymous.products.list({ search: 'Softly Deleted', limit: 100 });
    expect(publicList.items).toEqual([]);
    const adminList = await admin.products.list({
      search: 'Softly Deleted',
      includeInactive: true,
      limit: 100,
    });
    expect(adminList.items).toEqual([]);
  });

  test('the sku of a deleted product can be used again by create', async () => {
    const sku = nextSku('REUSE');
    const first = await admin.products.create({ sku, name: 'First Owner', priceCents: 100 });
    await admin.products.delete({ id: first.id });
    const second = await admin.products.create({ sku, name: 'Second Owner', priceCents: 200 });
    expect(second.id).not.toBe(first.id);
    expect(await anonymous.products.bySku({ sku })).toEqual(second);
  });

  test('deleting twice is NOT_FOUND the second time', async () => {
    const product = await admin.products.create({
      sku: nextSku('TWICE'),
      name: 'Twice',
      priceCents: 100,
    });
    await admin.products.delete({ id: product.id });
    const firstDeletedAt = await testDb.db
      .selectFrom('products')
      .select('deleted_at')
      .where('id', '=', product.id)
      .executeTakeFirstOrThrow();
    await expect(admin.products.delete({ id: product.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    // The second attempt does not move deleted_at.
    const secondDeletedAt = await testDb.db
      .selectFrom('products')
      .select('deleted_at')
      .where('id', '=', product.id)
      .executeTakeFirstOrThrow();
    expect(secondDeletedAt).toEqual(firstDeletedAt);
  });

  test('deleting an unknown id is NOT_FOUND and a malformed id BAD_REQUEST', async () => {
    await expect(admin.products.delete({ id: randomUUID() })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(admin.products.delete({ id: 'nope' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  test('customers may not delete products', async () => {
    const product = await admin.products.create({
      sku: nextSku('KEEP'),
      name: 'Kept',
      priceCents: 100,
    });
    await expect(customer.products.delete({ id: product.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(await anonymous.products.byId({ id: product.id })).toEqual(product);
  });
});

describe('products.list filters', () => {
  const names = [
    'Blue Widget',
    'BLUE Gadget',
    'blueberry jam',
    'Red Widget',
    '100% Cotton Shirt',
    '50 Percent Off',
    'snake_case mug',
    'snakeXcase mug',
    'Back\\slash Poster',
    'Backslash Poster',
  ];
  const prices = [100, 250, 250, 999, 1000, 1001, 5000, 5000, 12_345, 0];
  let inactive: Product;

  /** Every product a public list shows, straight from the table. */
  async function liveRows() {
    return testDb.db
      .selectFrom('products')
      .select(['id', 'name', 'price_cents', 'is_active'])
      .where('deleted_at', 'is', null)
      .execute();
  }

  async function listAll(input: {
    search?: string;
    minPriceCents?: number;
    maxPriceCents?: number;
  }): Promise<string[]> {
    const page = await anonymous.products.list({ ...input, limit: 100 });
    expect(page.nextCursor).toBeNull();
    return page.items.map((p) => p.id).sort();
  }

  beforeAll(async () => {
    for (const [i, name] of names.entries()) {
      await admin.products.create({ sku: nextSku('LIST'), name, priceCents: prices[i] ?? 1 });
    }
    inactive = await admin.products.create({
      sku: nextSku('LIST'),
      name: 'Blue Hidden Widget',
      priceCents: 250,
      isActive: false,
    });
    // More products than one page would otherwise hold are not needed: listAll uses limit 100.
    expect((await liveRows()).length).toBeLessThan(100);
  });

  async function expectedForSearch(search: string): Promise<string[]> {
    const rows = await liveRows();
    return rows
      .filter((r) => r.is_active && r.name.toLowerCase().includes(search.toLowerCase()))
      .map((r) => r.id)
      .sort();
  }

  test('search is a case-insensitive "name contains"', async () => {
    const found = await listAll({ search: 'blue' });
    expect(found).toEqual(await expectedForSearch('blue'));
    const foundNames = (await anonymous.products.list({ search: 'bLuE', limit: 100 })).items
      .map((p) => p.name)
      .sort();
    expect(foundNames).toEqual(['BLUE Gadget', 'Blue Widget', 'blueberry jam']);
    expect(await listAll({ search: 'WIDGET' })).toEqual(await expectedForSearch('widget'));
  });

  test("a '%' in the search is matched literally, not as a wildcard", async () => {
    // A search needs 3 letters or digits; the '%' around them is literal.
    const page = await anonymous.products.list({ search: '100%', limit: 100 });
    expect(page.items.map((p) => p.name)).toEqual(['100% Cotton Shirt']);
    expect(await listAll({ search: '00% C' })).toEqual(await expectedForSearch('00% C'));
    // '50%Off' would match '50 Percent Off' only if % were a wildcard.
    expect((await anonymous.products.list({ search: '50%Off', limit: 100 })).items).toEqual([]);
  });

  test("an '_' in the search is matched literally, not as a one-character wildcard", async () => {
    const page = await anonymous.products.list({ search: 'snake_case', limit: 100 });
    expect(page.items.map((p) => p.name)).toEqual(['snake_case mug']);
    // 'ke_ca' would also match 'snakeXcase' if '_' were a wildcard.
    expect(
      (await anonymous.products.list({ search: 'ke_ca', limit: 100 })).items.map((p) => p.name),
    ).toEqual(['snake_case mug']);
  });

  test('a backslash in the search is matched literally', async () => {
    const page = await anonymous.products.list({ search: 'ck\\sl', limit: 100 });
    expect(page.items.map((p) => p.name)).toEqual(['Back\\slash Poster']);
    expect(await listAll({ search: 'k\\slash' })).toEqual(await expectedForSearch('k\\slash'));
  });

  test('a search that matches nothing returns an empty last page', async () => {
    expect(await anonymous.products.list({ search: 'no such product anywhere' })).toEqual({
      items: [],
      nextCursor: null,
    });
  });

  test('a search with a NUL character or over 200 characters is BAD_REQUEST', async () => {
    await expect(anonymous.products.list({ search: 'a\u0000b' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(anonymous.products.list({ search: 'x'.repeat(201) })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  test('minPriceCents and maxPriceCents are inclusive bounds', async () => {
    const rows = (await liveRows()).filter((r) => r.is_active);
    const between = (min: number, max: number) =>
      rows
        .filter((r) => r.price_cents >= min && r.price_cents <= max)
        .map((r) => r.id)
        .sort();
    expect(await listAll({ minPriceCents: 250 })).toEqual(between(250, Number.MAX_SAFE_INTEGER));
    expect(await listAll({ maxPriceCents: 1000 })).toEqual(between(0, 1000));
    expect(await listAll({ minPriceCents: 250, maxPriceCents: 1000 })).toEqual(between(250, 1000));
    expect(await listAll({ minPriceCents: 5000, maxPriceCents: 5000 })).toHaveLength(2);
    expect(await listAll({ minPriceCents: 1001, maxPriceCents: 1000 })).toEqual([]);
  });

  test('price filters combine with search', async () => {
    const page = await anonymous.products.list({
      search: 'widget',
      maxPriceCents: 500,
      limit: 100,
    });
    expect(page.items.map((p) => p.name)).toEqual(['Blue Widget']);
  });

  test('negative or fractional price bounds are BAD_REQUEST', async () => {
    await expect(anonymous.products.list({ minPriceCents: -1 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(anonymous.products.list({ maxPriceCents: 1.5 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  test('inactive products are hidden from the public list', async () => {
    const ids = await listAll({ search: 'hidden' });
    expect(ids).toEqual([]);
    const customerPage = await customer.products.list({ search: 'hidden', limit: 100 });
    expect(customerPage.items).toEqual([]);
    const adminDefault = await admin.products.list({ search: 'hidden', limit: 100 });
    expect(adminDefault.items).toEqual([]);
  });

  test('an admin sees inactive products with includeInactive', async () => {
    const page = await admin.products.list({ search: 'hidden', includeInactive: true, limit: 100 });
    expect(page.items).toEqual([inactive]);
    const all = await admin.products.list({ includeInactive: true, limit: 100 });
    const rows = await liveRows();
    expect(all.items.map((p) => p.id).sort()).toEqual(rows.map((r) => r.id).sort());
  });

  test('includeInactive is FORBIDDEN for customers and anonymous callers', async () => {
    await expect(anonymous.products.list({ includeInactive: true })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(customer.products.list({ includeInactive: true })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });

  test('an invalid bearer token on the public list is UNAUTHORIZED, not silently anonymous', async () => {
    const stranger = createCaller(createInnerContext({ db: testDb.db, token: 'x'.repeat(43) }));
    await expect(stranger.products.list()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});
