// `pnpm db:seed`: development data (idempotent).
// `pnpm db:seed --products 1000000 --orders 100000 --users 5000`: bulk data for benchmarks.
import '@keel/runtime/require-node';
import { parseArgs } from 'node:util';
import { createDb, migrate } from '@keel/db';
import { adminDb, openLocalDatabase } from '../embedded/local-database';
import { seedBulkData } from '../seed/bulk-data';
import { developmentAccounts, seedDevelopmentData } from '../seed/development-data';
import { localDatabaseOptionsFromEnv } from './env';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    products: { type: 'string' },
    orders: { type: 'string' },
    users: { type: 'string' },
    'batch-size': { type: 'string' },
  },
});

function count(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative whole number, got "${value}"`);
    process.exit(2);
  }
  return n;
}

const bulk = {
  products: count('products', values.products),
  orders: count('orders', values.orders),
  users: count('users', values.users),
  batchSize: count('batch-size', values['batch-size']),
};
const target = await openLocalDatabase(localDatabaseOptionsFromEnv('attach'));
const db = createDb({
  connectionString: target.ownerUrl,
  maxConnections: 2,
  statementTimeoutMs: 0,
});
try {
  const owner = adminDb(target.ownerUrl);
  try {
    await migrate(owner, 'latest');
  } finally {
    await owner.destroy();
  }
  if (bulk.products === undefined && bulk.orders === undefined && bulk.users === undefined) {
    const inserted = await seedDevelopmentData(db);
    console.log(
      `development data: ${inserted.users} users, ${inserted.products} products, ${inserted.orders} orders inserted (0 means already there)`,
    );
    for (const a of developmentAccounts)
      console.log(`  ${a.role.padEnd(8)} ${a.email} / ${a.password}`);
  } else {
    const reports = await seedBulkData(db, {
      ...(bulk.users !== undefined ? { users: bulk.users } : {}),
      ...(bulk.products !== undefined ? { products: bulk.products } : {}),
      ...(bulk.orders !== undefined ? { orders: bulk.orders } : {}),
      ...(bulk.batchSize !== undefined ? { batchSize: bulk.batchSize } : {}),
      progress: true,
    });
    for (const r of reports) {
      console.log(
        `${r.table}: ${r.rows.toLocaleString('en-US')} rows in ${r.seconds.toFixed(1)} s (${Math.round(r.rowsPerSecond).toLocaleString('en-US')} rows/s)`,
      );
    }
  }
} finally {
  await db.destroy();
  await target.release();
}
