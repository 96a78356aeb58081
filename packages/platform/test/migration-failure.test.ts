import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createMigrator, MigrationFailedError, migrate, migrations } from '@keel/db';
import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';
import { afterAll, describe, expect, test } from 'vitest';
import { describeSchema } from '../src/conformance/describe-schema';
import { adminDb } from '../src/embedded/local-database';
import { createTestDatabase } from '../src/testing';

const brokenThing: Migration = {
  up: async (db: Kysely<unknown>) => {
    await db.schema.createTable('broken_things').addColumn('id', 'uuid').execute();
    await sql`select * from no_such_table`.execute(db);
  },
  down: async () => {},
};

const goodThing: Migration = {
  up: async (db: Kysely<unknown>) => {
    await db.schema.createTable('good_things').addColumn('id', 'uuid').execute();
  },
  down: async (db: Kysely<unknown>) => {
    await db.schema.dropTable('good_things').execute();
  },
};

async function failure(run: Promise<unknown>): Promise<MigrationFailedError> {
  try {
    await run;
  } catch (error) {
    if (error instanceof MigrationFailedError) return error;
    throw error;
  }
  throw new Error('expected the migration run to fail');
}

async function pending(db: Kysely<unknown>, all: Record<string, Migration>): Promise<string[]> {
  const state = await createMigrator(db, all).getMigrations();
  return state.filter((m) => !m.executedAt).map((m) => m.name);
}

describe('a migration that fails halfway', async () => {
  const scratch = await createTestDatabase({ template: null });
  const owner = adminDb(scratch.urls.owner);
  afterAll(async () => {
    await owner.destroy();
    await scratch.destroy();
  });
  await migrate(owner, 'latest');
  const before = await describeSchema(owner);

  test('throws MigrationFailedError naming the migration and the cause', async () => {
    const error = await failure(
      migrate(owner, 'latest', { ...migrations, '9001_add_broken_thing': brokenThing }),
    );
    expect(error.migrationName).toBe('9001_add_broken_thing');
    expect(error.message).toMatch(/9001_add_broken_thing/);
    expect(error.message).toMatch(/relation "no_such_table" does not exist/);
    expect((error.cause as { code?: string }).code).toBe('42P01');
    expect(error.results?.map((r) => `${r.status} ${r.migrationName}`)).toEqual([
      'Error 9001_add_broken_thing',
    ]);
  });

  test('leaves the schema exactly as it was: its first statement is rolled back too', async () => {
    await failure(
      migrate(owner, 'latest', { ...migrations, '9001_add_broken_thing': brokenThing }),
    );
    const after = await describeSchema(owner);
    expect(after).toEqual(before);
    expect(after.some((line) => line.includes('broken_things'))).toBe(false);
    const { rows } = await sql<{ table: string | null }>`
      select to_regclass('public.broken_things')::text as table`.execute(owner);
    expect(rows[0]?.table).toBeNull();
  });

  test('is not recorded as applied: the migrator still lists it as pending', async () => {
    const all = { ...migrations, '9001_add_broken_thing': brokenThing };
    await failure(migrate(owner, 'latest', all));
    expect(await pending(owner, all)).toEqual(['9001_add_broken_thing']);
    expect(await pending(owner, migrations)).toEqual([]);
  });

  test('when the second of two pending migrations fails, neither is applied', async () => {
    const all = {
      ...migrations,
      '9001_add_good_thing': goodThing,
      '9002_add_broken_thing': brokenThing,
    };
    const error = await failure(migrate(owner, 'latest', all));
    expect(error.migrationName).toBe('9002_add_broken_thing');
    expect(error.message).toMatch(/migration 9002_add_broken_thing failed/);
    expect(await pending(owner, all)).toEqual(['9001_add_good_thing', '9002_add_broken_thing']);
    expect(await describeSchema(owner)).toEqual(before);
    const { rows } = await sql<{ table: string | null }>`
      select to_regclass('public.good_things')::text as table`.execute(owner);
    expect(rows[0]?.table).toBeNull();
  });

  test('after a failed run the real migrations still apply and revert cleanly', async () => {
    await failure(
      migrate(owner, 'latest', { ...migrations, '9001_add_broken_thing': brokenThing }),
    );
    const all = { ...migrations, '9001_add_good_thing': goodThing };
    expect((await migrate(owner, 'latest', all)).map((r) => r.migrationName)).toEqual([
      '9001_add_good_thing',
    ]);
    expect(await migrate(owner, 'down', all)).toEqual([
      { migrationName: '9001_add_good_thing', direction: 'Down', status: 'Success' },
    ]);
    expect(await describeSchema(owner)).toEqual(before);
  });
});

/** Runs `pnpm db:migrate`'s script (src/cli/migrate.ts) as its own process. */
function runMigrateCli(
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  const child = spawn(
    process.execPath,
    [tsx, join(import.meta.dirname, '..', 'src', 'cli', 'migrate.ts'), 'latest'],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('pnpm db:migrate when a migration fails', async () => {
  // The CLI runs the real migration list, so the failure is provoked from the
  // database side: a `users` table already exists, and 0003_create_users
  // (after 0001 and 0002 succeeded in the same run) cannot create it.
  const scratch = await createTestDatabase({ template: null });
  const owner = adminDb(scratch.urls.owner);
  afterAll(async () => {
    await owner.destroy();
    await scratch.destroy();
  });
  await owner.schema.createTable('users').addColumn('id', 'uuid').execute();
  const before = await describeSchema(owner);

  test('exits non-zero, names the migration and the cause, and applies nothing', async () => {
    const { code, stdout, stderr } = await runMigrateCli({
      DATABASE_URL: scratch.urls.owner,
      DATABASE_OWNER_URL: scratch.urls.owner,
    });
    expect(code, `stdout: ${stdout}\nstderr: ${stderr}`).toBe(1);
    expect(stderr).toMatch(/migration 0003_create_users failed: relation "users" already exists/);
    expect(stderr).toMatch(/Error\s+0003_create_users/);
    expect(stderr).toMatch(/rolled back/);
    expect(stdout).not.toMatch(/applied/);
    expect(await describeSchema(owner)).toEqual(before);
    expect(await pending(owner, migrations)).toEqual(Object.keys(migrations));
  });
});
