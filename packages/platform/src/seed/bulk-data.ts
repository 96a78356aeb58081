import { randomBytes, randomUUID } from 'node:crypto';
import type { DB } from '@keel/db';
import { hashPassword } from '@keel/db';
import { type Kysely, sql } from 'kysely';
import { createProgress } from './progress';
import { productName, randomInt, seededRandom } from './random';

/** How much to insert. */
export interface BulkSeedOptions {
  users?: number;
  products?: number;
  orders?: number;
  /** Rows per statement. */
  batchSize?: number;
  /** Draw progress bars on stderr. */
  progress?: boolean;
}

/** Rows inserted and the rate, per table. */
export interface BulkSeedReport {
  table: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
}

/**
 * Fills a database for benchmarks, fast and within every constraint (no
 * disabled triggers or checks): each batch is one `INSERT … SELECT FROM
 * unnest($1::text[], …)`, so tens of thousands of rows travel as a handful
 * of array parameters in one round trip.
 *
 * Products get skus `BULK-<run>-<n>`, users `bulk-<run>-<n>@keel.dev`, so
 * runs never collide; orders take 1–5 items of existing products, with
 * totals computed in the same statement from the prices.
 *
 * @example
 * ```ts
 * import { seedBulkData } from '@keel/db';
 * await seedBulkData(ownerDb, { products: 1_000_000, orders: 100_000, users: 5_000 });
 * ```
 */
export async function seedBulkData(
  db: Kysely<DB>,
  options: BulkSeedOptions,
): Promise<BulkSeedReport[]> {
  const run = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`.toUpperCase();
  const batchSize = options.batchSize ?? 20_000;
  const reports: BulkSeedReport[] = [];
  if (options.users)
    reports.push(await seedUsers(db, run, options.users, batchSize, options.progress));
  if (options.products) {
    reports.push(await seedProducts(db, run, options.products, batchSize, options.progress));
  }
  if (options.orders)
    reports.push(
      await seedOrders(db, options.orders, Math.min(batchSize, 5_000), options.progress),
    );
  return reports;
}

function reporter(table: string, total: number, enabled = false) {
  const progress = createProgress(table, total, enabled ? process.stderr : nullStream);
  return {
    advance: (rows: number) => progress.advance(rows),
    finish: (): BulkSeedReport => ({ table, ...progress.finish() }),
  };
}

const nullStream = { isTTY: false, write: () => true };

async function seedUsers(
  db: Kysely<DB>,
  run: string,
  count: number,
  batchSize: number,
  progress?: boolean,
) {
  const bar = reporter('users', count, progress);
  // One hash for every bulk user: hashing each would dominate the run.
  const passwordHash = await hashPassword('keel-bulk-password');
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const emails: string[] = [];
    const names: string[] = [];
    for (let i = 0; i < size; i += 1) {
      const n = start + i + 1;
      emails.push(`bulk-${run.toLowerCase()}-${n}@keel.dev`);
      names.push(`Bulk Customer ${n}`);
    }
    // Multi-row insert from arrays: the builder cannot express unnest(...) with column aliases.
    await sql`
      insert into users (email, display_name, password_hash, role)
      select e, n, ${passwordHash}, 'customer' from unnest(${emails}::text[], ${names}::text[]) as u(e, n)`.execute(
      db,
    );
    bar.advance(size);
  }
  return bar.finish();
}

async function seedProducts(
  db: Kysely<DB>,
  run: string,
  count: number,
  batchSize: number,
  progress?: boolean,
) {
  const bar = reporter('products', count, progress);
  const random = seededRandom(count);
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const skus: string[] = [];
    const names: string[] = [];
    const prices: number[] = [];
    const stocks: number[] = [];
    for (let i = 0; i < size; i += 1) {
      const n = start + i + 1;
      skus.push(`BULK-${run}-${n}`);
      names.push(productName(n));
      prices.push(randomInt(random, 99, 99_999));
      stocks.push(randomInt(random, 0, 1_000));
    }
    await sql`
      insert into products (sku, name, price_cents, stock_quantity)
      select * from unnest(${skus}::text[], ${names}::text[], ${prices}::bigint[], ${stocks}::integer[])`.execute(
      db,
    );
    bar.advance(size);
  }
  return bar.finish();
}

async function seedOrders(db: Kysely<DB>, count: number, batchSize: number, progress?: boolean) {
  const users = (
    await db
      .selectFrom('users')
      .select('id')
      .where('deleted_at', 'is', null)
      .where('role', '=', 'customer')
      .execute()
  ).map((u) => u.id);
  // A sample of live products is plenty to spread items over.
  const products = (
    await db
      .selectFrom('products')
      .select('id')
      .where('deleted_at', 'is', null)
      .limit(200_000)
      .execute()
  ).map((p) => p.id);
  if (users.length === 0 || products.length === 0) {
    throw new Error(
      'bulk orders need users and products: pass --users and --products too, or seed them first',
    );
  }
  const bar = reporter('orders', count, progress);
  const random = seededRandom(count + 1);
  const statuses = ['pending', 'paid', 'shipped', 'delivered', 'cancelled'];
  const now = Date.now();
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const keys: string[] = [];
    const userIds: string[] = [];
    const orderStatuses: string[] = [];
    const placedAt: string[] = [];
    const itemKeys: string[] = [];
    const itemProducts: string[] = [];
    const itemQuantities: number[] = [];
    for (let i = 0; i < size; i += 1) {
      const key = randomUUID();
      keys.push(key);
      userIds.push(users[randomInt(random, 0, users.length - 1)] ?? '');
      orderStatuses.push(statuses[randomInt(random, 0, statuses.length - 1)] ?? 'pending');
      placedAt.push(new Date(now - randomInt(random, 0, 365 * 24 * 3600) * 1000).toISOString());
      const chosen = new Set<string>();
      const lines = randomInt(random, 1, 5);
      while (chosen.size < Math.min(lines, products.length)) {
        chosen.add(products[randomInt(random, 0, products.length - 1)] ?? '');
      }
      for (const productId of chosen) {
        itemKeys.push(key);
        itemProducts.push(productId);
        itemQuantities.push(randomInt(random, 1, 3));
      }
    }
    // One statement per batch: price the items, insert the orders with their
    // totals, then the items with the new order ids. Raw SQL because the
    // builder cannot express data-modifying CTEs over unnest(...) aliases.
    await sql`
      with items as (
        select * from unnest(${itemKeys}::uuid[], ${itemProducts}::uuid[], ${itemQuantities}::integer[])
          as i(idempotency_key, product_id, quantity)
      ), priced as (
        select i.idempotency_key, i.product_id, i.quantity, p.price_cents, p.name
        from items i join products p on p.id = i.product_id
      ), totals as (
        select idempotency_key, sum(price_cents * quantity)::bigint as total_cents from priced group by idempotency_key
      ), new_orders as (
        insert into orders (user_id, status, total_cents, currency, idempotency_key, placed_at, created_at)
        select o.user_id, o.status, t.total_cents, 'USD', o.idempotency_key, o.placed_at, o.placed_at
        from unnest(${keys}::uuid[], ${userIds}::uuid[], ${orderStatuses}::text[], ${placedAt}::timestamptz[])
          as o(idempotency_key, user_id, status, placed_at)
        join totals t on t.idempotency_key = o.idempotency_key
        returning id, idempotency_key
      )
      insert into order_items (order_id, product_id, quantity, unit_price_cents, product_name)
      select n.id, p.product_id, p.quantity, p.price_cents, p.name
      from priced p join new_orders n on n.idempotency_key = p.idempotency_key`.execute(db);
    bar.advance(size);
  }
  return bar.finish();
}
