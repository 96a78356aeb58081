import { createStandardTable } from '@keel/db';
import { sql } from 'kysely';
import { afterAll, describe, expect, test } from 'vitest';
import { checkSchemaConformance, formatViolation } from '../src/conformance/check-schema';
import { adminDb } from '../src/embedded/local-database';
import { createTestDatabase } from '../src/testing';

describe('the fully migrated schema', async () => {
  const testDb = await createTestDatabase();
  const owner = adminDb(testDb.urls.owner);
  afterAll(async () => {
    await owner.destroy();
    await testDb.destroy();
  });

  test('breaks none of the schema rules (naming, standard columns, constraints and indexes)', async () => {
    const violations = await checkSchemaConformance(owner);
    expect(violations.map(formatViolation)).toEqual([]);
  });

  test("keel_jobs: Keel's order-event outbox breaks none of them either (the job queue's own tables are pg-boss's)", async () => {
    const violations = await checkSchemaConformance(owner, 'keel_jobs', {
      only: ['order_events'],
    });
    expect(violations.map(formatViolation)).toEqual([]);
  });
});

describe('the conformance checker, on a deliberately bad table', async () => {
  const scratch = await createTestDatabase({ template: null });
  const owner = adminDb(scratch.urls.owner);
  afterAll(async () => {
    await owner.destroy();
    await scratch.destroy();
  });
  await sql`create function set_updated_at() returns trigger language plpgsql as $$ begin return new; end $$`.execute(
    owner,
  );
  // The migration helper's output is the example of a table that follows every rule.
  await createStandardTable(owner, 'owners', {
    columns: (t) => t.addColumn('is_verified', 'boolean', (c) => c.notNull().defaultTo(false)),
  });
  await createStandardTable(owner, 'pets', {
    foreignKeys: [
      { column: 'owner_id', references: 'owners', onDelete: 'cascade', onUpdate: 'cascade' },
    ],
  });
  await sql`create table "BadThing" (id serial primary key)`.execute(owner);
  await sql`create table person (
    id integer primary key,
    "displayName" text,
    tags text,
    flag boolean,
    price_cents numeric,
    weight double precision,
    shipped timestamp,
    happened_at date,
    status text,
    stock_quantity integer,
    owner_id uuid,
    email text,
    updated_at timestamptz not null default current_timestamp,
    deleted_at timestamptz not null,
    constraint fk_owner foreign key (owner_id) references owners (id)
  )`.execute(owner);
  await sql`create unique index person_email_key on person (email)`.execute(owner);
  await sql`create index idx_person_tags on person (tags)`.execute(owner);
  const violations = await checkSchemaConformance(owner);
  const found = (rule: string, table: string, columnOrObject?: string) =>
    violations.some(
      (v) =>
        v.rule === rule &&
        v.table === table &&
        (columnOrObject === undefined || (v.column ?? v.object) === columnOrObject),
    );

  test.each([
    ['naming.snake_case', 'BadThing', undefined],
    ['naming.snake_case', 'person', 'displayName'],
    ['naming.plural_table', 'person', undefined],
    ['naming.singular_column', 'person', 'tags'],
    ['naming.boolean_prefix', 'person', 'flag'],
    ['columns.id', 'person', 'id'],
    ['columns.created_at', 'person', 'created_at'],
    ['columns.deleted_at', 'person', 'deleted_at'],
    ['columns.updated_at_trigger', 'person', 'updated_at'],
    ['columns.no_float', 'person', 'weight'],
    ['columns.timestamptz', 'person', 'shipped'],
    ['columns.timestamptz', 'person', 'happened_at'],
    ['columns.money_type', 'person', 'price_cents'],
    ['constraints.money_check', 'person', 'price_cents'],
    ['constraints.quantity_check', 'person', 'stock_quantity'],
    ['constraints.allowed_values_check', 'person', 'status'],
    ['constraints.fk_actions', 'person', 'owner_id'],
    ['constraints.fk_index', 'person', 'owner_id'],
    ['constraints.natural_key_partial', 'person', 'person_email_key'],
    ['naming.index_name', 'person', 'idx_person_tags'],
    ['naming.constraint_name', 'person', 'fk_owner'],
  ] as const)('reports %s on %s (%s)', (rule, table, where) => {
    expect(found(rule, table, where), violations.map(formatViolation).join('\n')).toBe(true);
  });

  test('reports nothing for tables made by the migration helpers', () => {
    const helperTables = violations.filter((v) => v.table === 'owners' || v.table === 'pets');
    expect(helperTables.map(formatViolation)).toEqual([]);
  });
});
