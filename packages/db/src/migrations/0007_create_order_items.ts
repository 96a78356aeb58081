import { type Kysely, sql } from 'kysely';
import { createStandardTable, dropStandardTable } from '../migration-helpers';

const maxSafeInteger = sql.lit(Number.MAX_SAFE_INTEGER);

export async function up(db: Kysely<unknown>): Promise<void> {
  await createStandardTable(db, 'order_items', {
    foreignKeys: [
      // ON DELETE CASCADE: items are part of their order and go with it.
      // The unique (order_id, product_id) index below leads with order_id.
      {
        column: 'order_id',
        references: 'orders',
        onDelete: 'cascade',
        onUpdate: 'cascade',
        indexed: false,
      },
      // ON DELETE RESTRICT: a product that was sold cannot be hard-deleted
      // (products are soft-deleted); order history keeps its reference.
      { column: 'product_id', references: 'products', onDelete: 'restrict', onUpdate: 'cascade' },
    ],
    columns: (t) =>
      t
        .addColumn('quantity', 'integer', (c) => c.notNull())
        // The price and name at the time of the order, not today's.
        .addColumn('unit_price_cents', 'bigint', (c) => c.notNull())
        .addColumn('product_name', 'text', (c) => c.notNull())
        .addCheckConstraint('order_items_quantity_check', sql`quantity between 1 and 10000`)
        .addCheckConstraint(
          'order_items_unit_price_cents_check',
          sql`unit_price_cents between 0 and ${maxSafeInteger}`,
        )
        .addCheckConstraint(
          'order_items_product_name_check',
          sql`char_length(product_name) between 1 and 200`,
        ),
  });
  // One row per product per order.
  await db.schema
    .createIndex('order_items_order_id_product_id_key')
    .on('order_items')
    .columns(['order_id', 'product_id'])
    .unique()
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await dropStandardTable(db, 'order_items');
}
