import type { DB } from '@keel/db';
import { hashPassword } from '@keel/db';
import type { Kysely } from 'kysely';
import { productName, randomInt, seededRandom, stableUuid } from './random';

/** The documented development accounts (see the README). */
export const developmentAccounts = [
  {
    email: 'admin@keel.dev',
    password: 'keel-admin-password',
    displayName: 'Ada Admin',
    role: 'admin',
  },
  {
    email: 'ann@keel.dev',
    password: 'keel-customer-password',
    displayName: 'Ann Customer',
    role: 'customer',
  },
  {
    email: 'ben@keel.dev',
    password: 'keel-customer-password',
    displayName: 'Ben Customer',
    role: 'customer',
  },
  {
    email: 'cleo@keel.dev',
    password: 'keel-customer-password',
    displayName: 'Cleo Customer',
    role: 'customer',
  },
] as const;

const productCount = 300;
const orderStatuses = ['pending', 'paid', 'shipped', 'delivered', 'cancelled'] as const;
const ordersPerStatus = 3;

/** What a development seed run inserted (zero everywhere on a second run). */
export interface DevelopmentSeedResult {
  users: number;
  products: number;
  orders: number;
}

/**
 * Small, deterministic development data: the accounts above, 300 products and
 * orders in every status. Idempotent: every row has a natural key and is
 * inserted with `ON CONFLICT DO NOTHING`, so a second run adds nothing.
 *
 * @example
 * ```ts
 * import { seedDevelopmentData } from '@keel/db';
 * const inserted = await seedDevelopmentData(ownerDb);
 * ```
 */
export async function seedDevelopmentData(db: Kysely<DB>): Promise<DevelopmentSeedResult> {
  const users = await seedAccounts(db);
  const products = await seedProducts(db);
  const orders = await seedOrders(db);
  return { users, products, orders };
}

async function seedAccounts(db: Kysely<DB>): Promise<number> {
  const existing = new Set(
    (
      await db
        .selectFrom('users')
        .select('email')
        .where('deleted_at', 'is', null)
        .where(
          'email',
          'in',
          developmentAccounts.map((a) => a.email),
        )
        .execute()
    ).map((u) => u.email.toLowerCase()),
  );
  const missing = developmentAccounts.filter((a) => !existing.has(a.email));
  if (missing.length === 0) return 0;
  const rows = await Promise.all(
    missing.map(async (a) => ({
      email: a.email,
      display_name: a.displayName,
      role: a.role,
      password_hash: await hashPassword(a.password),
    })),
  );
  const inserted = await db
    .insertInto('users')
    .values(rows)
    .onConflict((oc) => oc.column('email').where('deleted_at', 'is', null).doNothing())
    .returning('id')
    .execute();
  return inserted.length;
}

async function seedProducts(db: Kysely<DB>): Promise<number> {
  const random = seededRandom(42);
  const rows = Array.from({ length: productCount }, (_, i) => {
    const n = i + 1;
    return {
      sku: `KEEL-${String(n).padStart(4, '0')}`,
      name: productName(n),
      description: `${productName(n)}: a sturdy, everyday item from the Keel demo catalogue.`,
      price_cents: randomInt(random, 199, 49_999),
      currency: 'USD',
      stock_quantity: randomInt(random, 20, 500),
      is_active: n % 25 !== 0,
    };
  });
  const inserted = await db
    .insertInto('products')
    .values(rows)
    .onConflict((oc) => oc.column('sku').where('deleted_at', 'is', null).doNothing())
    .returning('id')
    .execute();
  return inserted.length;
}

async function seedOrders(db: Kysely<DB>): Promise<number> {
  const random = seededRandom(7);
  const customers = await db
    .selectFrom('users')
    .select(['id', 'email'])
    .where('role', '=', 'customer')
    .where('deleted_at', 'is', null)
    .where(
      'email',
      'in',
      developmentAccounts.map((a) => a.email),
    )
    .orderBy('email')
    .execute();
  const products = await db
    .selectFrom('products')
    .select(['id', 'name', 'price_cents', 'sku'])
    .where('sku', 'like', 'KEEL-%')
    .where('is_active', '=', true)
    .where('deleted_at', 'is', null)
    .orderBy('sku')
    .execute();
  if (customers.length === 0 || products.length === 0) return 0;

  let inserted = 0;
  let n = 0;
  for (const status of orderStatuses) {
    for (let k = 0; k < ordersPerStatus; k += 1) {
      n += 1;
      const customer = customers[n % customers.length];
      if (!customer) continue;
      const picked = new Map<string, { product: (typeof products)[number]; quantity: number }>();
      const lines = randomInt(random, 1, 4);
      while (picked.size < lines) {
        const product = products[randomInt(random, 0, products.length - 1)];
        if (product) picked.set(product.id, { product, quantity: randomInt(random, 1, 3) });
      }
      const items = [...picked.values()];
      const total = items.reduce((sum, i) => sum + i.product.price_cents * i.quantity, 0);
      // One transaction per order: the order, its items and the stock move together.
      const created = await db.transaction().execute(async (trx) => {
        const order = await trx
          .insertInto('orders')
          .values({
            user_id: customer.id,
            status,
            total_cents: total,
            currency: 'USD',
            idempotency_key: stableUuid(`keel-development-order-${n}`),
          })
          .onConflict((oc) =>
            oc.columns(['user_id', 'idempotency_key']).where('deleted_at', 'is', null).doNothing(),
          )
          .returning('id')
          .executeTakeFirst();
        if (!order) return false;
        await trx
          .insertInto('order_items')
          .values(
            items.map((i) => ({
              order_id: order.id,
              product_id: i.product.id,
              quantity: i.quantity,
              unit_price_cents: i.product.price_cents,
              product_name: i.product.name,
            })),
          )
          .execute();
        if (status !== 'cancelled') {
          for (const i of items) {
            await trx
              .updateTable('products')
              .set((eb) => ({ stock_quantity: eb('stock_quantity', '-', i.quantity) }))
              .where('id', '=', i.product.id)
              .execute();
          }
        }
        return true;
      });
      if (created) inserted += 1;
    }
  }
  return inserted;
}
