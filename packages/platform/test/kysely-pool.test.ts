// Kysely's pool (`kyselyPool`): with `preparedStatements: true`, reads and
// writes are parsed and planned once per connection; text searches, `begin`
// and `commit` stay unnamed; results are the same as without. Either way,
// every statement reaches pg through its callback API.
import { randomUUID } from 'node:crypto';
import { createDb, createPool, type DB, kyselyPool } from '@keel/db';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { afterAll, expect, test } from 'vitest';
import { createTestDatabase } from '../src/testing';

const testDb = await createTestDatabase();
afterAll(() => testDb.destroy());

/** One connection, so `pg_prepared_statements` shows what this pool prepared. */
function onePool(preparedStatements: boolean): Kysely<DB> {
  return createDb({ connectionString: testDb.urls.app, maxConnections: 1, preparedStatements });
}

async function prepared(db: Kysely<DB>): Promise<{ name: string; statement: string }[]> {
  const { rows } = await sql<{ name: string; statement: string }>`
    select name, statement from pg_prepared_statements where not from_sql order by name`.execute(
    db,
  );
  return rows;
}

test('a read runs as one named statement, whatever its parameters; searches and transactions stay unnamed', async () => {
  const db = onePool(true);
  try {
    for (const sku of ['A-1', 'B-2', 'C-3'])
      await db.selectFrom('products').select('id').where('sku', '=', sku).execute();
    await db.selectFrom('products').select('id').where('name', 'ilike', '%tent%').execute();
    await db.transaction().execute(async (trx) => {
      await trx.selectFrom('users').select('id').limit(1).execute();
    });
    const statements = await prepared(db);
    // The pg_prepared_statements read itself is a named select too.
    const texts = statements.map((s) => s.statement);
    expect(statements.every((s) => /^keel_[0-9a-z]+$/.test(s.name))).toBe(true);
    expect(texts.filter((t) => t.includes('"sku" = $1'))).toHaveLength(1);
    expect(texts.filter((t) => t.includes('from "users"'))).toHaveLength(1);
    expect(texts.some((t) => /ilike/i.test(t))).toBe(false);
    expect(texts.some((t) => /^\s*(begin|commit)/i.test(t))).toBe(false);
  } finally {
    await db.destroy();
  }
});

test('results are the same as without: bigint as number, timestamptz as Date, writes applied', async () => {
  const plain = onePool(false);
  const named = onePool(true);
  try {
    const sku = `NAMED-${randomUUID().slice(0, 8).toUpperCase()}`;
    const [created] = await named
      .insertInto('products')
      .values({ sku, name: 'Named', price_cents: 1234, stock_quantity: 7 })
      .returning(['id', 'price_cents', 'created_at'])
      .execute();
    expect(created?.price_cents).toBe(1234);
    expect(created?.created_at).toBeInstanceOf(Date);
    const read = (db: Kysely<DB>) =>
      db.selectFrom('products').selectAll().where('sku', '=', sku).executeTakeFirstOrThrow();
    expect(await read(named)).toEqual(await read(plain));
    expect(await prepared(plain)).toEqual([]);
  } finally {
    await plain.destroy();
    await named.destroy();
  }
});

test('past its limit of names, further statement texts run unnamed', async () => {
  const pool = createPool({ connectionString: testDb.urls.app, maxConnections: 1 });
  const db = new Kysely<DB>({
    dialect: new PostgresDialect({
      pool: kyselyPool(pool, { namedStatements: true, maxNames: 2 }),
    }),
  });
  try {
    await db.selectFrom('products').select('id').limit(1).execute();
    await db.selectFrom('users').select('id').limit(1).execute();
    await db.selectFrom('sessions').select('id').limit(1).execute();
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_prepared_statements where not from_sql`.execute(db);
    expect(rows[0]?.n).toBe(2);
  } finally {
    await db.destroy();
  }
});

test('every statement reaches pg through its callback API, named or not', async () => {
  // The promise pg's client.query returns without a callback kept each
  // result reachable across two young-generation collections under load
  // (see kyselyPool's comment): no statement may take that path.
  for (const preparedStatements of [false, true]) {
    const pool = createPool({ connectionString: testDb.urls.app, maxConnections: 1 });
    const calls: { text: string; callback: boolean }[] = [];
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as { query: unknown }).query = (...args: unknown[]) => {
        const config = args[0] as string | { text?: string };
        const text = typeof config === 'string' ? config : (config.text ?? '');
        calls.push({ text, callback: typeof args.at(-1) === 'function' });
        return query(...args);
      };
    });
    const db = new Kysely<DB>({
      dialect: new PostgresDialect({
        pool: kyselyPool(pool, { namedStatements: preparedStatements }),
      }),
    });
    try {
      await db.selectFrom('products').select('id').limit(1).execute();
      await db.transaction().execute(async (trx) => {
        await trx.selectFrom('users').select('id').limit(1).execute();
      });
      const texts = calls.map((c) => c.text);
      expect(texts.some((t) => t.includes('from "products"'))).toBe(true);
      expect(texts.some((t) => /^\s*begin/i.test(t))).toBe(true);
      expect(calls.filter((c) => !c.callback)).toEqual([]);
    } finally {
      await db.destroy();
    }
  }
});
