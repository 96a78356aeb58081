// PostgreSQL's own logs never carry bind parameters: passwords, emails and
// tokens are sent as parameters.
import { sql } from 'kysely';
import { afterAll, expect, test } from 'vitest';
import { createTestDatabase } from '../src/testing';

const testDb = await createTestDatabase();
afterAll(() => testDb.destroy());

test.each(['log_parameter_max_length', 'log_parameter_max_length_on_error'])(
  'the embedded server runs with %s = 0',
  async (setting) => {
    const { rows } = await sql<{
      value: string;
    }>`select current_setting(${setting}) as value`.execute(testDb.db);
    expect(rows[0]?.value).toBe('0');
  },
);
