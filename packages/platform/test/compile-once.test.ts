// Queries compiled once (`compileOnce` in @keel/db) give the same rows as
// the same query built on every call, on the pool and in a transaction, and
// a value the query does not take as a parameter is refused.
import { compileOnce, createDb, type DB } from '@keel/db';
import { type Kysely, sql } from 'kysely';
import { afterAll, expect, test } from 'vitest';
import { createTestDatabase } from '../src/testing';

const testDb = await createTestDatabase();
const db: Kysely<DB> = createDb({ connectionString: testDb.urls.app, maxConnections: 2 });
afterAll(async () => {
  await db.destroy();
  await testDb.destroy();
});

const products = await db
  .insertInto('products')
  .values(
    Array.from({ length: 6 }, (_, i) => ({
      sku: `ONCE-${i}`,
      name: `Once ${i}`,
      price_cents: 100 + i,
      is_active: i % 2 === 0,
    })),
  )
  .returning(['id', 'sku'])
  .execute();

const built = (d: Kysely<DB>, minPrice: number, active: boolean) =>
  d
    .selectFrom('products')
    .select(['id', 'sku', 'price_cents', 'created_at'])
    .where('price_cents', '>=', minPrice)
    .where('is_active', '=', active)
    .where('deleted_at', 'is', null)
    .where(sql<boolean>`sku like ${'ONCE-%'}`)
    .orderBy('sku');
const once = compileOnce(2, (d, minPrice: number, active: boolean) => built(d, minPrice, active));

test('the compiled query returns what the built one does, for every value', async () => {
  for (const [minPrice, active] of [
    [0, true],
    [103, true],
    [0, false],
    [104, false],
    [1_000, true],
  ] as const) {
    const { rows } = await once(db, minPrice, active);
    expect(rows).toEqual(await built(db, minPrice, active).execute());
  }
  // Rows are parsed by the same pool: timestamps are Dates.
  const { rows } = await once(db, 0, true);
  expect(rows[0]?.created_at).toBeInstanceOf(Date);
  expect(rows.map((r) => r.sku)).toEqual(['ONCE-0', 'ONCE-2', 'ONCE-4']);
});

test('it runs inside a transaction, seeing the transaction’s own writes', async () => {
  await db
    .transaction()
    .execute(async (trx) => {
      await trx
        .updateTable('products')
        .set({ is_active: true })
        .where('sku', '=', 'ONCE-1')
        .execute();
      const { rows } = await once(trx, 0, true);
      expect(rows.map((r) => r.sku)).toEqual(['ONCE-0', 'ONCE-1', 'ONCE-2', 'ONCE-4']);
      throw new Error('roll back');
    })
    .catch((error: Error) => expect(error.message).toBe('roll back'));
  const { rows } = await once(db, 0, true);
  expect(rows).toHaveLength(3);
  expect(products).toHaveLength(6);
});

test('a value that is not a parameter of the query is refused, not compiled into the SQL', async () => {
  const wrong = compileOnce(2, (d, sku: string, _unused: number) =>
    d.selectFrom('products').select('id').where('sku', '=', sku),
  );
  await expect(async () => wrong(db, 'ONCE-0', 1)).rejects.toThrow(
    'compileOnce: value 1 is not a parameter of the query',
  );
});
