// The service's pool: named prepared statements by default, none behind a
// transaction-mode pooler (whatever DATABASE_PREPARED_STATEMENTS says) or
// when turned off.
import { createTestDatabase } from '@keel/platform/testing';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, expect, test } from 'vitest';
import { loadConfig } from '../src/config';
import { createServiceDb } from '../src/database';

const testDb = await createTestDatabase();
afterAll(() => testDb.destroy());

async function preparedBy(env: Record<string, string>): Promise<number> {
  const db = createServiceDb(
    loadConfig({ DATABASE_URL: testDb.urls.app, DATABASE_POOL_MAX: '1', ...env }),
    pino({ level: 'silent' }),
  );
  try {
    await db.selectFrom('products').select('id').limit(1).execute();
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_prepared_statements where not from_sql`.execute(db);
    return rows[0]?.n ?? -1;
  } finally {
    await db.destroy();
  }
}

test('named prepared statements: on by default, off behind a pooler, off when turned off', async () => {
  expect(await preparedBy({})).toBeGreaterThanOrEqual(1);
  expect(await preparedBy({ DATABASE_BEHIND_POOLER: 'true' })).toBe(0);
  expect(
    await preparedBy({ DATABASE_BEHIND_POOLER: 'true', DATABASE_PREPARED_STATEMENTS: 'true' }),
  ).toBe(0);
  expect(await preparedBy({ DATABASE_PREPARED_STATEMENTS: 'false' })).toBe(0);
});
