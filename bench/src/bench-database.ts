import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDb, type DB, migrate, roleNames } from '@keel/db';
import {
  adminDb,
  type EmbeddedPostgres,
  provisionDatabase,
  seedBulkData,
  startEmbeddedPostgres,
} from '@keel/platform';
import { type Kysely, sql } from 'kysely';

export const repositoryRoot = join(import.meta.dirname, '..', '..');
const benchRoot = join(repositoryRoot, '.data', 'bench');

/** The data set every run measures against. */
export const dataSet = { users: 5_000, products: 1_000_000, orders: 100_000 } as const;

/** The seeded benchmark database, running. */
export interface BenchDatabase {
  server: EmbeddedPostgres;
  appUrl: string;
  ownerUrl: string;
  superuserUrl: string;
  passwords: { superuser: string; owner: string; app: string; readonly: string };
  reused: boolean;
  seedSeconds: number | null;
  stop(): Promise<void>;
}

/**
 * Starts the benchmark's own embedded PostgreSQL in `.data/bench/<key>`,
 * seeding it through the fast path on first use. The key hashes the
 * migration manifest and the data set, so a rerun reuses the seeded data
 * until the schema changes.
 */
export async function prepareBenchDatabase(log: (line: string) => void): Promise<BenchDatabase> {
  const manifest = readFileSync(
    join(repositoryRoot, 'packages', 'db', 'migrations.lock.json'),
    'utf8',
  );
  const key = createHash('sha256')
    .update(manifest)
    .update(JSON.stringify(dataSet))
    .digest('hex')
    .slice(0, 12);
  const dir = join(benchRoot, key);
  const secretsFile = join(dir, 'bench.json');
  const seededMarker = join(dir, 'SEEDED');
  const reused = existsSync(seededMarker);
  if (!reused) {
    await rm(benchRoot, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const secret = () => randomBytes(12).toString('hex');
    const fresh = { superuser: secret(), owner: secret(), app: secret(), readonly: secret() };
    await writeFile(secretsFile, JSON.stringify(fresh), { mode: 0o600 });
  }
  const passwords = JSON.parse(readFileSync(secretsFile, 'utf8')) as BenchDatabase['passwords'];
  const server = await startEmbeddedPostgres({
    dataDir: join(dir, 'pg'),
    superuserPassword: passwords.superuser,
    persistent: true,
    slowQueryMs: -1,
  });
  const superuserUrl = server.url('postgres', passwords.superuser, 'keel');
  const ownerUrl = server.url(roleNames.owner, passwords.owner, 'keel');
  const appUrl = server.url(roleNames.app, passwords.app, 'keel');
  let seedSeconds: number | null = null;
  if (!reused) {
    await provisionDatabase(server.url('postgres', passwords.superuser, 'postgres'), {
      passwords,
      database: 'keel',
    });
    const owner = adminDb(ownerUrl);
    await migrate(owner, 'latest');
    await owner.destroy();
    log(`seeding ${JSON.stringify(dataSet)} through the fast path (first run only)…`);
    const started = performance.now();
    const db = createDb<DB>({
      connectionString: ownerUrl,
      maxConnections: 2,
      statementTimeoutMs: 0,
    });
    await seedBulkData(db, { ...dataSet, progress: true });
    await sql`vacuum analyze`.execute(db);
    await db.destroy();
    seedSeconds = (performance.now() - started) / 1000;
    await writeFile(seededMarker, new Date().toISOString());
  }
  // pg_stat_statements counts statements per request (scenario C).
  const superuser = adminDb(superuserUrl);
  await sql`create schema if not exists monitoring`.execute(superuser);
  await sql`create extension if not exists pg_stat_statements schema monitoring`.execute(superuser);
  await superuser.destroy();
  return {
    server,
    appUrl,
    ownerUrl,
    superuserUrl,
    passwords,
    reused,
    seedSeconds,
    stop: async () => {
      await server.stop();
    },
  };
}

/** A Kysely as the schema owner, for setting up scenario data. */
export function ownerDb(bench: BenchDatabase): Kysely<DB> {
  return createDb<DB>({
    connectionString: bench.ownerUrl,
    maxConnections: 4,
    statementTimeoutMs: 0,
  });
}
