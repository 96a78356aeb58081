// The unions kysely-codegen writes for CHECK-constrained text columns must be
// exactly the values each constraint allows.
import { sql } from 'kysely';
import { afterAll, expect, test } from 'vitest';
import { columnOverrides } from '../src/codegen';
import { createTestDatabase } from '../src/testing';

const testDb = await createTestDatabase();
afterAll(() => testDb.destroy());

test.each(Object.entries(columnOverrides))(
  '%s allows exactly the values of its CHECK constraint',
  async (column, { values, hasDefault }) => {
    const parts = column.split('.');
    const [schema, table, name] = parts.length === 3 ? parts : ['public', ...parts];
    const { rows } = await sql<{ definition: string }>`
    select pg_get_constraintdef(c.oid) as definition
    from pg_constraint c join pg_class t on t.oid = c.conrelid
      join pg_namespace n on n.oid = t.relnamespace
    where n.nspname = ${schema} and t.relname = ${table} and c.contype = 'c'
      and c.conname = ${`${table}_${name}_check`}`.execute(testDb.db);
    expect(rows).toHaveLength(1);
    const allowed = [...(rows[0]?.definition ?? '').matchAll(/'([^']+)'::text/g)].map((m) => m[1]);
    expect([...allowed].sort()).toEqual([...values].sort());
    const { rows: defaults } = await sql<{ hasDefault: boolean }>`
    select column_default is not null as "hasDefault" from information_schema.columns
    where table_schema = ${schema} and table_name = ${table} and column_name = ${name}`.execute(
      testDb.db,
    );
    expect(defaults[0]?.hasDefault).toBe(hasDefault);
  },
);
