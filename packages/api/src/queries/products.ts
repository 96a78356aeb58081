import { compileOnce, type DB } from '@keel/db';
import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import {
  decodeCursor,
  type KeysetRow,
  type KeysetSort,
  type Page,
  toPage,
  withKeyset,
} from '../pagination';

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

/** A compiled page query of one shape, run with its values in order. */
type ListQuery = (db: Kysely<DB>, ...values: unknown[]) => Promise<{ rows: KeysetRow<Product>[] }>;

// Scenario A's read: compiled once per shape (sort, cursor or not, and which
// filters are present), at most 4 × 2⁵ = 128 shapes.
const listQueries = new Map<string, ListQuery>();

/** The shape's query; `values` are, in order: the rows to fetch, the cursor's values, the pattern, the prices. */
function listQueryFor(shape: {
  sort: ProductSort;
  after: number;
  includeInactive: boolean;
  search: boolean;
  min: boolean;
  max: boolean;
}): ListQuery {
  const key = `${shape.sort}:${shape.after}:${+shape.includeInactive}${+shape.search}${+shape.min}${+shape.max}`;
  let run = listQueries.get(key);
  if (!run) {
    const arity = 1 + shape.after + +shape.search + +shape.min + +shape.max;
    run = compileOnce(arity, (db, ...values: unknown[]) => {
      let i = 0;
      const next = () => values[i++];
      const fetch = next() as number;
      const after = shape.after > 0 ? Array.from({ length: shape.after }, next) : undefined;
      let query = db
        .selectFrom('products')
        .select(productColumns)
        .where(visible(shape.includeInactive));
      if (shape.search) query = query.where('products.name', 'ilike', next() as string);
      if (shape.min) query = query.where('products.price_cents', '>=', next() as number);
      if (shape.max) query = query.where('products.price_cents', '<=', next() as number);
      return withKeyset(query, productSorts[shape.sort], after, fetch);
    }) as ListQuery;
    listQueries.set(key, run);
  }
  return run;
}

/** One keyset page of live products. One statement. */
export async function listProducts(
  db: Kysely<DB>,
  filter: ProductFilter,
  page: { limit: number; cursor?: string | undefined },
): Promise<Page<Product>> {
  const sort = productSorts[filter.sort];
  const after = page.cursor ? decodeCursor(sort, page.cursor) : [];
  // ILIKE with the pattern characters escaped, so the search is literal.
  const pattern = filter.search
    ? `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
    : undefined;
  const values: unknown[] = [page.limit + 1, ...after];
  if (pattern !== undefined) values.push(pattern);
  if (filter.minPriceCents !== undefined) values.push(filter.minPriceCents);
  if (filter.maxPriceCents !== undefined) values.push(filter.maxPriceCents);
  const run = listQueryFor({
    sort: filter.sort,
    after: after.length,
    includeInactive: filter.includeInactive,
    search: pattern !== undefined,
    min: filter.minPriceCents !== undefined,
    max: filter.maxPriceCents !== undefined,
  });
  const { rows } = await run(db, ...values);
  return toPage(rows, sort, page.limit);
}

// products.byId is the hottest single-row read: compiled once per visibility.
const byIdQuery = (includeInactive: boolean) =>
  compileOnce(1, (db, id: string) =>
    db
      .selectFrom('products')
      .select(productColumns)
      .where(visible(includeInactive))
      .where('products.id', '=', id),
  );
const byIdQueries = { visible: byIdQuery(false), all: byIdQuery(true) };

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
