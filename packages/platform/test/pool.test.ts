import { createDb } from '@keel/db';
import { sql } from 'kysely';
import { afterAll, expect, test } from 'vitest';
import { adminDb } from '../src/embedded/local-database';
import { createTestDatabase } from '../src/testing';

const testDb = await createTestDatabase();
const superuser = adminDb(testDb.urls.superuser);
afterAll(async () => {
  await superuser.destroy();
  await testDb.destroy();
});

test('when the server terminates an idle pooled connection, the process lives and the next query succeeds', async () => {
  const poolErrors: Error[] = [];
  const db = createDb({
    connectionString: testDb.urls.app,
    maxConnections: 2,
    applicationName: 'keel_pool_probe',
    onPoolError: (error) => poolErrors.push(error),
  });
  try {
    await sql`select 1`.execute(db); // leaves one idle connection in the pool
    const { rows } = await sql<{ terminated: number }>`
      select count(*)::int as terminated from (
        select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'keel_pool_probe'
      ) t`.execute(superuser);
    expect(rows[0]?.terminated).toBe(1);
    await expect.poll(() => poolErrors.length, { timeout: 5_000 }).toBe(1);
    const after = await sql<{ one: number }>`select 1 as one`.execute(db);
    expect(after.rows[0]?.one).toBe(1);
  } finally {
    await db.destroy();
  }
});

test('timeouts and the application name reach the server as startup parameters', async () => {
  const db = createDb({
    connectionString: testDb.urls.app,
    statementTimeoutMs: 1234,
    applicationName: 'keel_settings_probe',
  });
  try {
    const { rows } = await sql<{ statement_timeout: string; application_name: string }>`
      select current_setting('statement_timeout') as statement_timeout,
             current_setting('application_name') as application_name`.execute(db);
    expect(rows[0]).toEqual({
      statement_timeout: '1234ms',
      application_name: 'keel_settings_probe',
    });
    await expect(sql`select pg_sleep(2)`.execute(db)).rejects.toMatchObject({ code: '57014' });
  } finally {
    await db.destroy();
  }
});

test('without startup parameters, keel_app still gets its role-level statement_timeout', async () => {
  const db = createDb({ connectionString: testDb.urls.app, sendStartupParameters: false });
  try {
    const { rows } = await sql<{ statement_timeout: string }>`
      select current_setting('statement_timeout') as statement_timeout`.execute(db);
    expect(rows[0]?.statement_timeout).toBe('15s');
  } finally {
    await db.destroy();
  }
});
