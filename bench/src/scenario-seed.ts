import { applySchemaPrivileges, createDb, type DB, ensureDatabase, migrate } from '@keel/db';
import { adminDb, seedBulkData } from '@keel/platform';
import { sql } from 'kysely';
import type { BenchDatabase } from './bench-database';

export interface SeedResult {
  rows: number;
  fastPathRowsPerSecond: number;
  ceilingRowsPerSecond: number;
  ratio: number;
}

/**
 * Scenario E: the fast seed path (batched INSERT … SELECT FROM unnest of
 * array parameters, from Node) against PostgreSQL's own
 * INSERT … SELECT generate_series of comparable rows, on the same server,
 * each into an empty products table with all its indexes and checks.
 */
export async function seedingRate(bench: BenchDatabase, rows: number): Promise<SeedResult> {
  const database = 'keel_seed_bench';
  const admin = adminDb(bench.server.url('postgres', bench.passwords.superuser, 'postgres'));
  await sql`drop database if exists ${sql.id(database)}`.execute(admin);
  await ensureDatabase(admin, database);
  const inDatabase = adminDb(bench.server.url('postgres', bench.passwords.superuser, database));
  await applySchemaPrivileges(inDatabase);
  await inDatabase.destroy();
  const ownerUrl = bench.server.url('keel_owner', bench.passwords.owner, database);
  const owner = adminDb(ownerUrl);
  await migrate(owner, 'latest');
  await owner.destroy();

  const db = createDb<DB>({ connectionString: ownerUrl, maxConnections: 2, statementTimeoutMs: 0 });
  try {
    const fastStarted = performance.now();
    await seedBulkData(db, { products: rows });
    const fastSeconds = (performance.now() - fastStarted) / 1000;

    await sql`truncate products cascade`.execute(db);
    await sql`checkpoint`.execute(adminDb(bench.superuserUrl)).catch(() => {});
    const ceilingStarted = performance.now();
    await sql`
      insert into products (sku, name, price_cents, stock_quantity)
      select 'GEN-' || g, 'Generated Product ' || g, 99 + (g * 7919) % 99900, (g * 31) % 1000
      from generate_series(1, ${rows}) as g`.execute(db);
    const ceilingSeconds = (performance.now() - ceilingStarted) / 1000;
    return {
      rows,
      fastPathRowsPerSecond: rows / fastSeconds,
      ceilingRowsPerSecond: rows / ceilingSeconds,
      ratio: ceilingSeconds / fastSeconds,
    };
  } finally {
    await db.destroy();
    await sql`drop database if exists ${sql.id(database)} with (force)`.execute(admin);
    await admin.destroy();
  }
}
