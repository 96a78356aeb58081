import { readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMigrator,
  currentChecksums,
  generatedTypesFile,
  lockedChecksums,
  manifestProblems,
  migrationFiles,
  migrations,
  migrationsFolder,
} from '@keel/db';
import { sql } from 'kysely';
import { afterAll, describe, expect, test } from 'vitest';
import { generateTypes } from '../src/codegen';
import { describeSchema } from '../src/conformance/describe-schema';
import { adminDb } from '../src/embedded/local-database';
import { createTestDatabase } from '../src/testing';

describe('migration round trip on a fresh database', async () => {
  const scratch = await createTestDatabase({ template: null });
  const owner = adminDb(scratch.urls.owner);
  afterAll(async () => {
    await owner.destroy();
    await scratch.destroy();
  });

  test('every up, every down to zero, every up again: the second schema equals the first', async () => {
    const migrator = createMigrator(owner);
    const names = Object.keys(migrations);
    for (const name of names) {
      const { error, results } = await migrator.migrateUp();
      expect(error).toBeUndefined();
      expect(results?.map((r) => r.migrationName)).toEqual([name]);
    }
    const first = await describeSchema(owner);
    expect(first.length).toBeGreaterThan(0);
    const firstJobs = await describeSchema(owner, 'keel_jobs');
    expect(firstJobs.length).toBeGreaterThan(0);

    for (const name of [...names].reverse()) {
      const { error, results } = await migrator.migrateDown();
      expect(error).toBeUndefined();
      expect(results?.map((r) => `${r.direction} ${r.migrationName}`)).toEqual([`Down ${name}`]);
    }
    expect(await describeSchema(owner)).toEqual([]);
    expect(await describeSchema(owner, 'keel_jobs')).toEqual([]);

    const { error } = await migrator.migrateToLatest();
    expect(error).toBeUndefined();
    expect(await describeSchema(owner)).toEqual(first);
    expect(await describeSchema(owner, 'keel_jobs')).toEqual(firstJobs);
  });
});

describe('migration files', () => {
  test('every file in the migrations folder is listed in migrations/index.ts, in order', () => {
    expect(Object.keys(migrations)).toEqual(migrationFiles().map((f) => f.replace(/\.ts$/, '')));
  });

  test('every migration has both up and down', () => {
    for (const [name, migration] of Object.entries(migrations)) {
      expect(typeof migration.up, name).toBe('function');
      expect(typeof migration.down, name).toBe('function');
    }
  });

  test('no locked migration changed, and every migration is locked (migrations.lock.json)', () => {
    expect(manifestProblems(lockedChecksums(), currentChecksums())).toEqual([]);
  });

  test('the manifest check notices an edited, a deleted and an unlocked migration', () => {
    const locked = { '0001_a.ts': 'aaa', '0002_b.ts': 'bbb' };
    const problems = manifestProblems(locked, { '0001_a.ts': 'changed', '0003_c.ts': 'ccc' });
    expect(problems).toEqual([
      '0001_a.ts changed after it was locked; write a new migration instead',
      '0002_b.ts is in migrations.lock.json but was deleted',
      '0003_c.ts is not locked yet; run pnpm --filter @keel/db db:lock-migrations',
    ]);
  });

  test('names say what changes: NNNN_verb_what', () => {
    for (const file of migrationFiles())
      expect(file).toMatch(/^\d{4}_(create|add|drop|alter|rename|remove)_[a-z0-9_]+\.ts$/);
    expect(readFileSync(join(migrationsFolder, 'index.ts'), 'utf8')).toContain(
      'Record<string, Migration>',
    );
  });
});

describe('generated Database types', async () => {
  const testDb = await createTestDatabase();
  const owner = adminDb(testDb.urls.owner);
  afterAll(async () => {
    await owner.destroy();
    await testDb.destroy();
  });

  test('src/generated/db.ts equals a fresh kysely-codegen run against the migrated schema', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'keel-codegen-')), 'db.ts');
    await generateTypes(testDb.urls.owner, out);
    const fresh = await readFile(out, 'utf8');
    const committed = await readFile(generatedTypesFile, 'utf8');
    expect(committed, 'run pnpm db:codegen and commit the result').toBe(fresh);
  });

  test('the migration bookkeeping lives outside the public schema', async () => {
    const { rows } = await sql<{ schema: string }>`
      select table_schema as schema from information_schema.tables where table_name = 'kysely_migration'`.execute(
      owner,
    );
    expect(rows).toEqual([{ schema: 'keel_migrations' }]);
  });
});
