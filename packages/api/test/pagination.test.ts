import { randomBytes, randomUUID } from 'node:crypto';
import { createDb } from '@keel/db';
import { createTestDatabase } from '@keel/platform/testing';
import { TRPCError } from '@trpc/server';
import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createInnerContext } from '../src/context';
import { createCaller, InvalidRequest, type Product, toTRPCError } from '../src/index';
import { decodeCursor, encodeCursor, type KeysetSort } from '../src/pagination';
import { type ProductSort, productSorts } from '../src/queries/products';

const testDb = await createTestDatabase();
afterAll(() => testDb.destroy());
// One context serves every call; the per-request search cap is hardening.test.ts's concern.
const anonymous = createCaller(
  createInnerContext({ db: testDb.db, settings: { maxSearchesPerRequest: 1_000_000 } }),
);

const sorts: readonly ProductSort[] = ['newest', 'price_asc', 'price_desc', 'name'];

/** A product as the independent ordering sees it, with created_at to the microsecond. */
interface Row {
  id: string;
  name: string;
  price: number;
  createdUs: number;
}

const compare = (a: number | string, b: number | string): number => (a < b ? -1 : a > b ? 1 : 0);

// The database uses the builtin C.UTF-8 collation: code-point order, which is
// what `<` gives for the BMP-only names used here; uuids compare as their text.
const comparators: Record<ProductSort, (a: Row, b: Row) => number> = {
  newest: (a, b) => compare(b.createdUs, a.createdUs) || compare(b.id, a.id),
  price_asc: (a, b) => compare(a.price, b.price) || compare(a.id, b.id),
  price_desc: (a, b) => compare(b.price, a.price) || compare(b.id, a.id),
  name: (a, b) => compare(a.name, b.name) || compare(a.id, b.id),
};

/** Every live, active product, read straight from the table. */
async function liveActiveRows(): Promise<Row[]> {
  return testDb.db
    .selectFrom('products')
    .select([
      'id',
      'name',
      'price_cents as price',
      sql<number>`(extract(epoch from created_at) * 1000000)::bigint`.as('createdUs'),
    ])
    .where('deleted_at', 'is', null)
    .where('is_active', '=', true)
    .execute();
}

async function expectedOrder(sort: ProductSort): Promise<string[]> {
  return (await liveActiveRows()).sort(comparators[sort]).map((r) => r.id);
}

interface Walk {
  ids: string[];
  pages: Product[][];
}

/** Follows nextCursor from the first page until it is null. */
async function walk(
  sort: ProductSort,
  limit: number,
  afterPage?: (pageNumber: number, items: Product[]) => Promise<void>,
): Promise<Walk> {
  const pages: Product[][] = [];
  let cursor: string | undefined;
  do {
    const page = await anonymous.products.list({ sort, limit, cursor });
    pages.push(page.items);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    // Only the last page may be short, and a page that says "more" is full.
    if (page.nextCursor !== null) expect(page.items).toHaveLength(limit);
    if (pages.length > 200) throw new Error('the walk does not end');
    await afterPage?.(pages.length, page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return { ids: pages.flat().map((p) => p.id), pages };
}

let skuCounter = 0;
function nextSku(): string {
  skuCounter += 1;
  return `PAGE-${String(skuCounter).padStart(4, '0')}`;
}

const names = [
  'apple',
  'Apple',
  'Zebra',
  'zebra',
  'Widget',
  'Widget',
  'éclair',
  'Éclair',
  'a b',
  'a-b',
  'ab',
  '100 Things',
];
const prices = [100, 250, 250, 999, 5000, 5000, 5000, 0];

function productRow(i: number, overrides: { is_active?: boolean } = {}) {
  return {
    sku: nextSku(),
    name: names[i % names.length] ?? 'fallback',
    price_cents: prices[i % prices.length] ?? 1,
    stock_quantity: i,
    ...overrides,
  };
}

let tiedBatchIds: string[] = [];
let hiddenIds: string[] = [];

beforeAll(async () => {
  // 20 products in one statement: the same created_at, so 'newest' must break ties by id.
  const tied = await testDb.db
    .insertInto('products')
    .values(Array.from({ length: 20 }, (_, i) => productRow(i)))
    .returning('id')
    .execute();
  tiedBatchIds = tied.map((r) => r.id);
  // 15 more in a second statement, then 22 one by one: 57 live, active products.
  await testDb.db
    .insertInto('products')
    .values(Array.from({ length: 15 }, (_, i) => productRow(i + 20)))
    .execute();
  for (let i = 35; i < 57; i++) {
    await testDb.db.insertInto('products').values(productRow(i)).execute();
  }
  // Rows no walk may return: inactive ones and soft-deleted ones.
  const inactive = await testDb.db
    .insertInto('products')
    .values([0, 1, 2].map((i) => productRow(i, { is_active: false })))
    .returning('id')
    .execute();
  const deleted = await testDb.db
    .insertInto('products')
    .values([3, 4, 5].map((i) => productRow(i)))
    .returning('id')
    .execute();
  await testDb.db
    .updateTable('products')
    .set({ deleted_at: sql`current_timestamp` })
    .where(
      'id',
      'in',
      deleted.map((r) => r.id),
    )
    .execute();
  hiddenIds = [...inactive, ...deleted].map((r) => r.id);
});

describe('walking products.list page by page', () => {
  test('the data set has the ties the walks are meant to exercise', async () => {
    const rows = await liveActiveRows();
    expect(rows).toHaveLength(57);
    const tied = rows.filter((r) => tiedBatchIds.includes(r.id));
    expect(new Set(tied.map((r) => r.createdUs)).size).toBe(1);
    expect(rows.filter((r) => r.price === 5000).length).toBeGreaterThan(10);
    expect(rows.filter((r) => r.name === 'Widget').length).toBeGreaterThan(5);
  });

  for (const sort of sorts) {
    test(`sort '${sort}' with limit 7 returns every live active product exactly once, in order`, async () => {
      const expected = await expectedOrder(sort);
      const { ids, pages } = await walk(sort, 7);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(expected);
      expect(pages).toHaveLength(Math.ceil(57 / 7));
      expect(pages.at(-1)).toHaveLength(57 % 7);
      for (const id of hiddenIds) expect(ids).not.toContain(id);
    });
  }

  test('when the rows fill the last page exactly, that page already has nextCursor null', async () => {
    // 57 = 3 × 19: no empty fourth page.
    const { ids, pages } = await walk('price_asc', 19);
    expect(pages.map((p) => p.length)).toEqual([19, 19, 19]);
    expect(ids).toEqual(await expectedOrder('price_asc'));
  });

  test('a limit larger than the data set gives one page with nextCursor null', async () => {
    const page = await anonymous.products.list({ sort: 'name', limit: 100 });
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((p) => p.id)).toEqual(await expectedOrder('name'));
  });

  test('limit 1 walks the whole list one product at a time', async () => {
    const { ids } = await walk('newest', 1);
    expect(ids).toEqual(await expectedOrder('newest'));
  });

  test('a cursor is stateless: the same cursor gives the same page again', async () => {
    const first = await anonymous.products.list({ sort: 'price_desc', limit: 7 });
    const cursor = first.nextCursor ?? undefined;
    expect(cursor).toBeDefined();
    const once = await anonymous.products.list({ sort: 'price_desc', limit: 7, cursor });
    const twice = await anonymous.products.list({ sort: 'price_desc', limit: 7, cursor });
    expect(twice).toEqual(once);
    expect(once.items.map((p) => p.id)).toEqual((await expectedOrder('price_desc')).slice(7, 14));
  });

  test('the walk combines with filters: only matching products, in order', async () => {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await anonymous.products.list({
        sort: 'price_asc',
        limit: 3,
        minPriceCents: 250,
        maxPriceCents: 999,
        search: 'ebr',
        cursor,
      });
      ids.push(...page.items.map((p) => p.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    const rows = (await liveActiveRows())
      .filter((r) => r.price >= 250 && r.price <= 999 && r.name.toLowerCase().includes('ebr'))
      .sort(comparators.price_asc);
    expect(rows.length).toBeGreaterThan(3);
    expect(ids).toEqual(rows.map((r) => r.id));
  });
});

describe('limit', () => {
  test('0 and 101 are BAD_REQUEST', async () => {
    await expect(anonymous.products.list({ limit: 0 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(anonymous.products.list({ limit: 101 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  test('negative and fractional limits are BAD_REQUEST', async () => {
    await expect(anonymous.products.list({ limit: -1 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(anonymous.products.list({ limit: 2.5 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  test('1 and 100 are accepted', async () => {
    expect((await anonymous.products.list({ limit: 1 })).items).toHaveLength(1);
    expect((await anonymous.products.list({ limit: 100 })).items).toHaveLength(
      (await liveActiveRows()).length,
    );
  });

  test('the default limit is 20, with or without an input object, sorted newest first', async () => {
    const newest = await expectedOrder('newest');
    const noInput = await anonymous.products.list();
    expect(noInput.items.map((p) => p.id)).toEqual(newest.slice(0, 20));
    expect(noInput.nextCursor).not.toBeNull();
    const emptyInput = await anonymous.products.list({});
    expect(emptyInput.items.map((p) => p.id)).toEqual(newest.slice(0, 20));
    const sortOnly = await anonymous.products.list({ sort: 'name' });
    expect(sortOnly.items).toHaveLength(20);
  });
});

describe('rows inserted during a walk', () => {
  for (const sort of sorts) {
    test(`sort '${sort}': never returns a row twice and sees new rows only after the cursor`, async () => {
      const before = new Set((await liveActiveRows()).map((r) => r.id));
      let cursorRow: Row | undefined;
      let firstPages: string[] = [];
      let inserted: string[] = [];
      const { ids } = await walk(sort, 7, async (pageNumber, items) => {
        if (pageNumber > 2) return;
        firstPages = [...firstPages, ...items.map((p) => p.id)];
        if (pageNumber === 1) return;
        const last = items.at(-1);
        cursorRow = (await liveActiveRows()).find((r) => r.id === last?.id);
        // New rows spread over the whole order: cheapest, dearest, first and last by name.
        const rows = await testDb.db
          .insertInto('products')
          .values([
            { sku: nextSku(), name: '!early', price_cents: 0, stock_quantity: 1 },
            { sku: nextSku(), name: '~late', price_cents: 1_000_000_000_000, stock_quantity: 1 },
            { sku: nextSku(), name: 'apple', price_cents: 250, stock_quantity: 1 },
            { sku: nextSku(), name: 'Widget', price_cents: 5000, stock_quantity: 1 },
            { sku: nextSku(), name: 'mmm', price_cents: 999, stock_quantity: 1 },
          ])
          .returning('id')
          .execute();
        inserted = rows.map((r) => r.id);
      });
      expect(inserted).toHaveLength(5);
      expect(new Set(ids).size).toBe(ids.length);
      // Every row that existed when the walk started is seen exactly once.
      for (const id of before) expect(ids.filter((seen) => seen === id)).toHaveLength(1);
      // After page 2 the data is stable again: the rest of the walk is exactly
      // the rows (old and new) that sort after the cursor row, in order.
      const anchor = cursorRow;
      if (!anchor) throw new Error('page 2 had no last row');
      const rest = (await liveActiveRows())
        .filter((r) => comparators[sort](r, anchor) > 0)
        .sort(comparators[sort])
        .map((r) => r.id);
      expect(ids).toEqual([...ids.slice(0, 14), ...rest]);
      expect(ids.slice(0, 14)).toEqual(firstPages);
      const newSeen = ids.filter((id) => inserted.includes(id));
      if (sort === 'newest') {
        // New rows are newer than the cursor: they belong before it and must not appear.
        expect(newSeen).toEqual([]);
      } else {
        // The dearest / last-by-name row sorts after the cursor, the cheapest / first before it.
        expect(newSeen.length).toBeGreaterThan(0);
        expect(newSeen.length).toBeLessThan(5);
      }
    });
  }
});

describe('tampered cursors are BAD_REQUEST, never INTERNAL_SERVER_ERROR', () => {
  const b64 = (value: unknown) =>
    Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  const someId = randomUUID();
  const someTime = '2025-01-02 03:04:05.123456+00';

  async function expectBadCursor(
    cursor: string,
    sort: ProductSort = 'newest',
    message: string | RegExp = 'cursor is invalid for this list',
  ) {
    const error = await anonymous.products.list({ sort, cursor }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TRPCError);
    expect(error).toMatchObject({ code: 'BAD_REQUEST' });
    expect((error as TRPCError).message).toMatch(message);
  }

  test('random base64url garbage', async () => {
    await expectBadCursor(randomBytes(48).toString('base64url'));
    await expectBadCursor('bm90LWEtY3Vyc29y_-_-garbage');
  });

  test('characters that are not base64url at all', async () => {
    await expectBadCursor('!!!$$$***');
  });

  test('valid base64url of text that is not JSON', async () => {
    await expectBadCursor(b64('hello, I am not JSON'));
    await expectBadCursor(b64('{"s":"products.newest","v":['));
  });

  test('JSON of the wrong shape', async () => {
    await expectBadCursor(b64('null'));
    await expectBadCursor(b64('42'));
    await expectBadCursor(b64([someTime, someId]));
    await expectBadCursor(b64({ s: 'products.newest' }));
    await expectBadCursor(b64({ v: [someTime, someId] }));
    await expectBadCursor(b64({ s: 'products.newest', v: [1, 2] }));
    await expectBadCursor(b64({ s: 'products.newest', v: [someTime] }));
    await expectBadCursor(b64({ s: 'products.newest', v: [someTime, someId, someId] }));
    await expectBadCursor(b64({ s: 'products.newest', v: 'not an array' }));
  });

  test('a cursor of another sort of the same list', async () => {
    const byName = await anonymous.products.list({ sort: 'name', limit: 2 });
    const nameCursor = byName.nextCursor ?? '';
    expect(nameCursor).not.toBe('');
    await expectBadCursor(nameCursor, 'newest');
    // price_asc and price_desc cursors have the same value types; only the sort name tells them apart.
    const cheap = await anonymous.products.list({ sort: 'price_asc', limit: 2 });
    await expectBadCursor(cheap.nextCursor ?? '', 'price_desc');
    const dear = await anonymous.products.list({ sort: 'price_desc', limit: 2 });
    await expectBadCursor(dear.nextCursor ?? '', 'price_asc');
  });

  test('a real cursor from users.list', async () => {
    const { user, token } = await anonymous.auth.register({
      email: 'admin@example.com',
      password: 'a-long-password',
      displayName: 'Admin',
    });
    await testDb.db.updateTable('users').set({ role: 'admin' }).where('id', '=', user.id).execute();
    await anonymous.auth.register({
      email: 'second@example.com',
      password: 'a-long-password',
      displayName: 'Second',
    });
    const admin = createCaller(createInnerContext({ db: testDb.db, token }));
    const users = await admin.users.list({ limit: 1 });
    expect(users.nextCursor).not.toBeNull();
    await expectBadCursor(users.nextCursor ?? '', 'newest');
  });

  test('cursors made for users.list and orders.list', async () => {
    for (const name of ['users.newest', 'orders.newest']) {
      const foreign: KeysetSort = { ...productSorts.newest, name };
      await expectBadCursor(encodeCursor(foreign, [someTime, someId]), 'newest');
    }
  });

  test('values of the wrong type for their column', async () => {
    const price = (values: string[], sort: 'price_asc' | 'price_desc' = 'price_asc') =>
      expectBadCursor(encodeCursor(productSorts[sort], values), sort);
    await price(['abc', someId]);
    await price(['12.5', someId]);
    await price(['1e6', someId]);
    await price(['99999999999999999999', someId]);
    await price(['100', '1; drop table products']);
    await price(['100', "' or 1=1 --"]);
    await price(['100', ''], 'price_desc');
    const newest = (values: string[]) =>
      expectBadCursor(encodeCursor(productSorts.newest, values), 'newest');
    await newest(['yesterday', someId]);
    await newest(['2025-01-02', someId]);
    await newest(["2025-01-02 03:04:05+00'; drop table products; --", someId]);
    await newest([someTime, 'not-a-uuid']);
    await expectBadCursor(encodeCursor(productSorts.name, ['n'.repeat(1001), someId]), 'name');
    // The table survived every attempt.
    expect((await liveActiveRows()).length).toBeGreaterThan(0);
  });

  test('values of the right form that PostgreSQL still refuses', async () => {
    // 19 digits pass the format check but overflow bigint.
    await expectBadCursor(
      encodeCursor(productSorts.price_asc, ['9999999999999999999', someId]),
      'price_asc',
      /./,
    );
    // The right shape, but no such day or hour.
    await expectBadCursor(
      encodeCursor(productSorts.newest, ['2025-02-30 25:61:61+00', someId]),
      'newest',
      /./,
    );
  });

  test('a cursor of 3000 characters', async () => {
    await expectBadCursor('A'.repeat(3000), 'newest', /./);
    const padded = encodeCursor(productSorts.name, ['x'.repeat(2500), someId]);
    expect(padded.length).toBeGreaterThan(2000);
    await expectBadCursor(padded, 'name', /./);
  });

  test('a crafted but well-formed cursor is simply a position in the list', async () => {
    // Not tampering: any well-formed cursor of the right sort is a valid position.
    const page = await anonymous.products.list({
      sort: 'price_asc',
      limit: 100,
      cursor: encodeCursor(productSorts.price_asc, ['999', '00000000-0000-0000-0000-000000000000']),
    });
    const expected = (await liveActiveRows())
      .filter((r) => r.price >= 999)
      .sort(comparators.price_asc)
      .map((r) => r.id);
    expect(page.items.map((p) => p.id)).toEqual(expected);
  });
});

describe('encodeCursor and decodeCursor', () => {
  const id = randomUUID();

  test('round-trip the values of every product sort', () => {
    const samples: Record<ProductSort, string[]> = {
      newest: ['2025-01-02 03:04:05.123456+00', id],
      price_asc: ['0', id],
      price_desc: ['9007199254740991', id],
      name: ['Éclair "quoted" \\ and ünïcode', id],
    };
    for (const sort of sorts) {
      const cursor = encodeCursor(productSorts[sort], samples[sort]);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeCursor(productSorts[sort], cursor)).toEqual(samples[sort]);
    }
  });

  test('a cursor of another sort is refused with BAD_REQUEST', () => {
    const cursor = encodeCursor(productSorts.price_asc, ['100', id]);
    expect(() => decodeCursor(productSorts.price_desc, cursor)).toThrow(InvalidRequest);
    const foreign: KeysetSort = { ...productSorts.newest, name: 'users.newest' };
    const foreignCursor = encodeCursor(foreign, ['2025-01-02 03:04:05+00', id]);
    let caught: unknown;
    try {
      decodeCursor(productSorts.newest, foreignCursor);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidRequest);
    // The one mapping makes it a BAD_REQUEST for the caller.
    expect(toTRPCError(caught)).toMatchObject({
      code: 'BAD_REQUEST',
      message: 'cursor is invalid for this list',
    });
  });

  test('a cursor with the wrong number of values is refused', () => {
    const short = encodeCursor(productSorts.newest, ['2025-01-02 03:04:05+00']);
    expect(() => decodeCursor(productSorts.newest, short)).toThrow(InvalidRequest);
  });

  test('timestamps keep their microseconds and offsets through the round trip', () => {
    for (const time of [
      '2025-01-02 03:04:05+00',
      '2025-01-02 03:04:05.1+02',
      '2025-01-02 03:04:05.999999-05:30',
    ]) {
      const cursor = encodeCursor(productSorts.newest, [time, id]);
      expect(decodeCursor(productSorts.newest, cursor)).toEqual([time, id]);
    }
  });
});

describe('the keyset indexes serve every sort', () => {
  const expectedIndex: Record<ProductSort, string> = {
    newest: 'products_created_at_id_idx',
    price_asc: 'products_price_cents_id_idx',
    price_desc: 'products_price_cents_id_idx',
    name: 'products_name_id_idx',
  };
  const captured: CompiledQuery[] = [];
  const loggingDb = createDb({
    connectionString: testDb.urls.app,
    maxConnections: 1,
    log: (event) => {
      if (event.level === 'query') captured.push(event.query);
    },
  });
  afterAll(() => loggingDb.destroy());
  const logged = createCaller(createInnerContext({ db: loggingDb }));

  interface PlanNode {
    'Node Type': string;
    'Index Name'?: string;
    Plans?: PlanNode[];
  }
  const flatten = (node: PlanNode): PlanNode[] => [
    node,
    ...(node.Plans ?? []).flatMap((child) => flatten(child)),
  ];

  for (const sort of sorts) {
    test(`'${sort}' first and later pages are an ordered scan of ${expectedIndex[sort]}, no sort step`, async () => {
      const first = await logged.products.list({ sort, limit: 7 });
      await logged.products.list({ sort, limit: 7, cursor: first.nextCursor ?? undefined });
      const queries = captured.splice(0).filter((q) => /from "products"/.test(q.sql));
      expect(queries).toHaveLength(2);
      for (const query of queries) {
        // A tiny table would be scanned sequentially and sorted; rule that out to
        // see whether an index can deliver the rows in the requested order at all.
        const plan = await testDb.db.transaction().execute(async (trx) => {
          await sql`set local enable_seqscan = off`.execute(trx);
          await sql`set local enable_sort = off`.execute(trx);
          await sql`set local enable_bitmapscan = off`.execute(trx);
          const result = await trx.executeQuery<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
            CompiledQuery.raw(`explain (format json) ${query.sql}`, [...query.parameters]),
          );
          return result.rows[0]?.['QUERY PLAN'][0].Plan;
        });
        if (!plan) throw new Error('no plan');
        const nodes = flatten(plan);
        expect(nodes.map((n) => n['Node Type'])).not.toContain('Sort');
        expect(nodes.map((n) => n['Index Name'])).toContain(expectedIndex[sort]);
      }
    });
  }
});
