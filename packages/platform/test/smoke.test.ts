import { sql } from 'kysely';
import { afterAll, expect, test } from 'vitest';
import { createTestDatabase } from '../src/testing';

const testDb = await createTestDatabase();
afterAll(() => testDb.destroy());

test('the app role connects over TLS to PostgreSQL 18', async () => {
  const { rows } = await sql<{ version: string; ssl: boolean; user: string }>`
    select current_setting('server_version_num') as version, current_user as user,
      (select ssl from pg_stat_ssl where pid = pg_backend_pid()) as ssl`.execute(testDb.db);
  expect(rows[0]?.version.startsWith('18')).toBe(true);
  expect(rows[0]?.ssl).toBe(true);
  expect(rows[0]?.user).toBe('keel_app');
});
