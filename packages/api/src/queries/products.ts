import { compileOnce, type DB } from '@keel/db';
import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import { type KeysetSort, type Page, paginate } from '../pagination';

/** What the API returns for a product: explicit columns, camelCase. */
export interface Product {
  id: string;
  sku: string;
  name: string;
  description: string;
  priceCents: number;
  currency: string;
  stockQuantity: number;
  isActive: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export const productColumns = [
  'products.id',
  'products.sku',
  'products.name',
  'products.description',
  'products.price_cents as priceCents',
  'products.currency',
  'products.stock_quantity as stockQuantity',
  'products.is_active as isActive',
  'products.created_at as createdAt',
  'products.updated_at as updatedAt',
] as const;

export const productSorts = {
  newest: {
    name: 'products.newest',
    direction: 'desc',
    columns: [
      { ref: 'products.created_at', type: 'timestamptz' },
      { ref: 'products.id', type: 'uuid' },
    ],
  },
  price_asc: {
    name: 'products.price_asc',
    direction: 'asc',
    columns: [
      { ref: 'products.price_cents', type: 'bigint' },
      { ref: 'products.id', type: 'uuid' },
    ],
  },
  price_desc: {
    name: 'products.price_desc',
    direction: 'desc',
    columns: [
      { ref: 'products.price_cents', type: 'bigint' },
      { ref: 'products.id', type: 'uuid' },
    ],
  },
  name: {
    name: 'products.name',
    direction: 'asc',
    columns: [
      { ref: 'products.name', type: 'text' },
      { ref: 'products.id', type: 'uuid' },
    ],
  },
} as const satisfies Record<string, KeysetSort>;

export type ProductSort = keyof typeof productSorts;

export interface ProductFilter {
  sort: ProductSort;
  search?: string | undefined;
  minPriceCents?: number | undefined;
  maxPriceCents?: number | undefined;
  includeInactive: boolean;
}

function visible(includeInactive: boolean) {
  return (eb: ExpressionBuilder<DB, 'products'>) =>
    includeInactive
      ? eb('products.deleted_at', 'is', null)
      : eb.and([eb('products.deleted_at', 'is', null), eb('products.is_active', '=', true)]);
}

/** One keyset page of live products. One statement. */
export function listProducts(
  db: Kysely<DB>,
  filter: ProductFilter,
  page: { limit: number; cursor?: string | undefined },
): Promise<Page<Product>> {
  let query = db
    .selectFrom('products')
    .select(productColumns)
    .where(visible(filter.includeInactive));
  if (filter.search) {
    // ILIKE with the pattern characters escaped, so the search is literal.
    const pattern = `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where('products.name', 'ilike', pattern);
  }
  if (filter.minPriceCents !== undefined)
    query = query.where('products.price_cents', '>=', filter.minPriceCents);
  if (filter.maxPriceCents !== undefined)
    query = query.where('products.price_cents', '<=', filter.maxPriceCents);
  return paginate(query, productSorts[filter.sort], page);
}

// products.byId is the hottest single-row read: compiled once per visibility.
const byIdQueries = {
  visible: compileOnce(1, (db, id: string) =>
    db
      .selectFrom('products')
      .select(productColumns)
      .where(visible(false))
      .where('products.id', '=', id),
  ),
  all: compileOnce(1, (db, id: string) =>
    db
      .selectFrom('products')
      .select(productColumns)
      .where(visible(true))
      .where('products.id', '=', id),
  ),
};

/** A live product by id or sku; inactive ones only when asked. */
export async function findProduct(
  db: Kysely<DB>,
  key: { id: string } | { sku: string },
  includeInactive: boolean,
): Promise<Product | undefined> {
  if ('id' in key) {
    const { rows } = await byIdQueries[includeInactive ? 'all' : 'visible'](db, key.id);
    return rows[0];
  }
  return db
    .selectFrom('products')
    .select(productColumns)
    .where(visible(includeInactive))
    .where('products.sku', '=', key.sku)
    .executeTakeFirst();
}

export interface NewProduct {
  sku: string;
  name: string;
  description?: string | undefined;
  priceCents: number;
  currency?: string | undefined;
  stockQuantity?: number | undefined;
  isActive?: boolean | undefined;
}

export function insertProduct(db: Kysely<DB>, product: NewProduct): Promise<Product> {
  return db
    .insertInto('products')
    .values({
      sku: product.sku,
      name: product.name,
      price_cents: product.priceCents,
      ...(product.description !== undefined ? { description: product.description } : {}),
      ...(product.currency !== undefined ? { currency: product.currency } : {}),
      ...(product.stockQuantity !== undefined ? { stock_quantity: product.stockQuantity } : {}),
      ...(product.isActive !== undefined ? { is_active: product.isActive } : {}),
    })
    .returning(productColumns)
    .executeTakeFirstOrThrow();
}

/**
 * Updates the given fields. With `expectedUpdatedAt`, only if the row was not
 * changed since (compared at millisecond precision, what a client's Date
 * holds). Returns undefined when no live row matched.
 */
export function updateProduct(
  db: Kysely<DB>,
  id: string,
  changes: Partial<Omit<NewProduct, 'sku'>> & { sku?: string | undefined },
  expectedUpdatedAt?: Date,
): Promise<Product | undefined> {
  let query = db
    .updateTable('products')
    .set({
      ...(changes.sku !== undefined ? { sku: changes.sku } : {}),
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      ...(changes.priceCents !== undefined ? { price_cents: changes.priceCents } : {}),
      ...(changes.currency !== undefined ? { currency: changes.currency } : {}),
      ...(changes.stockQuantity !== undefined ? { stock_quantity: changes.stockQuantity } : {}),
      ...(changes.isActive !== undefined ? { is_active: changes.isActive } : {}),
      // Always a write, so updated_at moves even for an empty change set.
      updated_at: sql`current_timestamp`,
    })
    .where('products.id', '=', id)
    .where('products.deleted_at', 'is', null);
  if (expectedUpdatedAt) {
    query = query.where(
      sql<Date>`date_trunc('milliseconds', products.updated_at)`,
      '=',
      expectedUpdatedAt,
    );
  }
  return query.returning(productColumns).executeTakeFirst();
}

/** Soft-deletes a live product; false when there was none. */
export async function softDeleteProduct(db: Kysely<DB>, id: string): Promise<boolean> {
  const result = await db
    .updateTable('products')
    .set({ deleted_at: sql`current_timestamp` })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
