import { type Kysely, sql } from 'kysely';
import { createStandardTable, dropStandardTable } from '../migration-helpers';

// The largest integer a JavaScript number holds exactly: int8 money arrives
// in the service as a number, so the database keeps it in that range.
const maxSafeInteger = sql.lit(Number.MAX_SAFE_INTEGER);

export async function up(db: Kysely<unknown>): Promise<void> {
  await createStandardTable(db, 'products', {
    columns: (t) =>
      t
        .addColumn('sku', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('price_cents', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull().defaultTo('USD'))
        .addColumn('stock_quantity', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
        .addCheckConstraint('products_sku_check', sql`sku ~ '^[A-Z0-9][A-Z0-9-]{2,39}$'`)
        .addCheckConstraint(
          'products_name_check',
          sql`char_length(name) between 1 and 200 and name = btrim(name)`,
        )
        .addCheckConstraint('products_description_check', sql`char_length(description) <= 5000`)
        .addCheckConstraint(
          'products_price_cents_check',
          sql`price_cents between 0 and ${maxSafeInteger}`,
        )
        .addCheckConstraint('products_currency_check', sql`currency ~ '^[A-Z]{3}$'`)
        // The database itself refuses an oversell.
        .addCheckConstraint('products_stock_quantity_check', sql`stock_quantity >= 0`),
  });
  const live = [sql.ref('deleted_at'), 'is', null] as const;
  await db.schema
    .createIndex('products_sku_key')
    .on('products')
    .column('sku')
    .unique()
    .where(...live)
    .execute();
  // One index per list order products.list offers, each ending in id.
  await db.schema
    .createIndex('products_created_at_id_idx')
    .on('products')
    .columns(['created_at desc', 'id desc'])
    .where(...live)
    .execute();
  // Scanned forwards for price_asc and backwards for price_desc.
  await db.schema
    .createIndex('products_price_cents_id_idx')
    .on('products')
    .columns(['price_cents', 'id'])
    .where(...live)
    .execute();
  await db.schema
    .createIndex('products_name_id_idx')
    .on('products')
    .columns(['name', 'id'])
    .where(...live)
    .execute();
  // "name contains" (ILIKE '%…%') uses trigrams.
  await db.schema
    .createIndex('products_name_trgm_idx')
    .on('products')
    .using('gin')
    .expression(sql`name gin_trgm_ops`)
    .where(...live)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await dropStandardTable(db, 'products');
}
