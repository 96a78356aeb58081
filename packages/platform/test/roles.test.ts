import { sql } from 'kysely';
import { afterAll, describe, expect, test } from 'vitest';
import { adminDb } from '../src/embedded/local-database';
import { createTestDatabase } from '../src/testing';

const testDb = await createTestDatabase();
const owner = adminDb(testDb.urls.owner);
const app = adminDb(testDb.urls.app);
const readonly = adminDb(testDb.urls.readonly);
// A table created by keel_owner after the roles exist: default privileges must cover it.
await sql`create table role_probes (id integer primary key, note text)`.execute(owner);
await sql`insert into role_probes values (1, 'seeded')`.execute(owner);

afterAll(async () => {
  await Promise.all([owner.destroy(), app.destroy(), readonly.destroy()]);
  await testDb.destroy();
});

async function sqlstate(run: Promise<unknown>): Promise<string | undefined> {
  try {
    await run;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('keel_app, the role the service connects as', () => {
  test('reads and writes rows of tables created later by keel_owner', async () => {
    await sql`insert into role_probes values (2, 'from app')`.execute(app);
    await sql`update role_probes set note = 'changed' where id = 2`.execute(app);
    await sql`delete from role_probes where id = 2`.execute(app);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from role_probes`.execute(
      app,
    );
    expect(rows[0]?.n).toBe(1);
  });

  test.each([
    ['create a table', sql`create table app_made (id int)`],
    ['create a schema', sql`create schema app_schema`],
    ['alter a table', sql`alter table role_probes add column extra text`],
    ['drop a table', sql`drop table role_probes`],
    ['truncate a table', sql`truncate role_probes`],
    ['create a temporary table', sql`create temporary table scratch (id int)`],
  ])('cannot %s', async (_, statement) => {
    expect(await sqlstate(statement.execute(app))).toMatch(/^(42501|42P01)$/);
  });

  test('cannot touch the migration bookkeeping', async () => {
    expect(await sqlstate(sql`delete from keel_migrations.kysely_migration`.execute(app))).toBe(
      '42501',
    );
  });
});

describe('keel_readonly, the reporting role', () => {
  test('can select', async () => {
    const { rows } = await sql<{ note: string }>`select note from role_probes`.execute(readonly);
    expect(rows).toEqual([{ note: 'seeded' }]);
  });

  test.each([
    ['insert', sql`insert into role_probes values (3, 'x')`],
    ['update', sql`update role_probes set note = 'x'`],
    ['delete', sql`delete from role_probes`],
    ['create', sql`create table readonly_made (id int)`],
  ])('cannot %s', async (_, statement) => {
    expect(await sqlstate(statement.execute(readonly))).toMatch(/^(42501|25006)$/);
  });
});
